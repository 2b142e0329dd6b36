//! `parse_xml()`: XML text to a dynamic value, by the conversion table of its documentation
//! page: an element is `null` when empty, its text when it has only text, else an object of
//! `@attribute` values, child elements (a name seen twice becomes an array) and `#text`; text
//! that reads as a number is a number (the page's example); only elements, attributes and text
//! count (the prolog, comments, processing instructions and DOCTYPE are skipped). Invalid XML,
//! or input over 1 MB, is null.

use serde_json::{Map, Value as J};

use super::error::R;
use super::value::Value;

const MAX: usize = 1 << 20;

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

fn decode(t: &str) -> Option<String> {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        let end = rest[p..].find(';')? + p;
        let ent = &rest[p + 1..end];
        let c = match ent {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            e if e.starts_with("#x") || e.starts_with("#X") => {
                char::from_u32(u32::from_str_radix(&e[2..], 16).ok()?)?
            }
            e if e.starts_with('#') => char::from_u32(e[1..].parse().ok()?)?,
            _ => return None,
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Text as the page converts it: a number when it reads as one.
fn text_value(t: &str) -> J {
    if let Ok(n) = t.parse::<i64>() {
        return J::from(n);
    }
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() && t.chars().any(|c| c.is_ascii_digit()) => {
            serde_json::Number::from_f64(x)
                .map(J::Number)
                .unwrap_or(J::String(t.into()))
        }
        _ => J::String(t.to_string()),
    }
}

impl P<'_> {
    fn starts(&self, w: &str) -> bool {
        self.s[self.i..].starts_with(w.as_bytes())
    }

    fn skip_until(&mut self, w: &str) -> Option<()> {
        let rest = &self.s[self.i..];
        let p = rest.windows(w.len()).position(|x| x == w.as_bytes())?;
        self.i += p + w.len();
        Some(())
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    /// Skip what is not an element: `<?...?>`, `<!--...-->`, `<!DOCTYPE ...>`.
    fn misc(&mut self) -> Option<()> {
        loop {
            self.ws();
            if self.starts("<?") {
                self.skip_until("?>")?;
            } else if self.starts("<!--") {
                self.skip_until("-->")?;
            } else if self.starts("<!") && !self.starts("<![CDATA[") {
                self.skip_until(">")?;
            } else {
                return Some(());
            }
        }
    }

    fn name(&mut self) -> Option<String> {
        let start = self.i;
        while self.i < self.s.len() {
            let c = self.s[self.i];
            if c.is_ascii_whitespace() || matches!(c, b'>' | b'/' | b'=') {
                break;
            }
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// One element at `<`: (name, value).
    fn element(&mut self, depth: usize) -> Option<(String, J)> {
        if depth > 100 || !self.starts("<") {
            return None;
        }
        self.i += 1;
        let name = self.name()?;
        let mut obj = Map::new();
        loop {
            self.ws();
            if self.starts("/>") {
                self.i += 2;
                return Some((
                    name,
                    if obj.is_empty() {
                        J::Null
                    } else {
                        J::Object(obj)
                    },
                ));
            }
            if self.starts(">") {
                self.i += 1;
                break;
            }
            let an = self.name()?;
            self.ws();
            if !self.starts("=") {
                return None;
            }
            self.i += 1;
            self.ws();
            let q = *self.s.get(self.i)?;
            if q != b'"' && q != b'\'' {
                return None;
            }
            self.i += 1;
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i] != q {
                self.i += 1;
            }
            let raw = std::str::from_utf8(&self.s[start..self.i]).ok()?;
            self.i += 1;
            obj.insert(format!("@{an}"), J::String(decode(raw)?));
        }
        // Content: text, child elements, until `</name>`.
        let mut text = String::new();
        let mut children: Vec<(String, J)> = Vec::new();
        loop {
            if self.i >= self.s.len() {
                return None;
            }
            if self.starts("</") {
                self.i += 2;
                let close = self.name()?;
                self.ws();
                if close != name || !self.starts(">") {
                    return None;
                }
                self.i += 1;
                break;
            }
            if self.starts("<!--") {
                self.skip_until("-->")?;
            } else if self.starts("<![CDATA[") {
                self.i += 9;
                let start = self.i;
                self.skip_until("]]>")?;
                text.push_str(std::str::from_utf8(&self.s[start..self.i - 3]).ok()?);
            } else if self.starts("<?") {
                self.skip_until("?>")?;
            } else if self.starts("<") {
                children.push(self.element(depth + 1)?);
            } else {
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i] != b'<' {
                    self.i += 1;
                }
                text.push_str(&decode(std::str::from_utf8(&self.s[start..self.i]).ok()?)?);
            }
        }
        let text = text.trim();
        if children.is_empty() && obj.is_empty() {
            return Some((
                name,
                if text.is_empty() {
                    J::Null
                } else {
                    text_value(text)
                },
            ));
        }
        if !text.is_empty() {
            obj.insert("#text".into(), text_value(text));
        }
        for (k, v) in children {
            match obj.get_mut(&k) {
                Some(J::Array(a)) => a.push(v),
                Some(prev) => {
                    let first = prev.take();
                    *prev = J::Array(vec![first, v]);
                }
                None => {
                    obj.insert(k, v);
                }
            }
        }
        Some((name, J::Object(obj)))
    }
}

/// The conversion of one document, or `None` when it is not XML.
pub fn convert(xml: &str) -> Option<J> {
    if xml.len() > MAX {
        return None;
    }
    let mut p = P {
        s: xml.as_bytes(),
        i: 0,
    };
    p.misc()?;
    let (name, v) = p.element(0)?;
    p.misc()?;
    if p.i != p.s.len() {
        return None;
    }
    let mut m = Map::new();
    m.insert(name, v);
    Some(J::Object(m))
}

pub(super) fn parse_xml(a: &[Value]) -> R<Value> {
    let s = a.first().map(|v| v.to_kusto_string()).unwrap_or_default();
    Ok(convert(&s).map(Value::dynamic).unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_pages_conversion_table() {
        // Each row of the table on the parse_xml page.
        assert_eq!(convert("<e/>"), Some(json!({"e": null})));
        assert_eq!(convert("<e>text</e>"), Some(json!({"e": "text"})));
        assert_eq!(
            convert("<e name=\"value\" />"),
            Some(json!({"e": {"@name": "value"}}))
        );
        assert_eq!(
            convert("<e name=\"value\">text</e>"),
            Some(json!({"e": {"@name": "value", "#text": "text"}}))
        );
        assert_eq!(
            convert("<e> <a>text</a> <b>text</b> </e>"),
            Some(json!({"e": {"a": "text", "b": "text"}}))
        );
        assert_eq!(
            convert("<e> <a>text</a> <a>text</a> </e>"),
            Some(json!({"e": {"a": ["text", "text"]}}))
        );
        assert_eq!(
            convert("<e> text <a>text</a> </e>"),
            Some(json!({"e": {"#text": "text", "a": "text"}}))
        );
        // The page's example document.
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<duration>\n    <value>118.0</value>\n    <count>5.0</count>\n    <min>100.0</min>\n    <max>150.0</max>\n    <stdDev>0.0</stdDev>\n    <sampledValue>118.0</sampledValue>\n    <sum>118.0</sum>\n</duration>";
        assert_eq!(
            convert(doc),
            Some(
                json!({"duration": {"value": 118.0, "count": 5.0, "min": 100.0, "max": 150.0, "stdDev": 0.0, "sampledValue": 118.0, "sum": 118.0}})
            )
        );
        // Not XML: null.
        for bad in ["", "<a>", "<a></b>", "text", "<a x=1/>", "<a/><b/>"] {
            assert_eq!(convert(bad), None, "{bad}");
        }
        assert_eq!(convert("<a>&lt;&#65;&amp;</a>"), Some(json!({"a": "<A&"})));
        // Deep nesting stops instead of overflowing the stack.
        let deep = "<a>".repeat(5000) + &"</a>".repeat(5000);
        assert_eq!(convert(&deep), None);
    }
}
