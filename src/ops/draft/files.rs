//! The files a passing draft becomes: a hunt, or a rule with its detection tests beside it.
//! Everything but the model's fields (`provenance`, `rollout`, the id) is vigil's.

use serde_json::{json, Value};

pub fn yaml_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn list(d: &Value, k: &str) -> String {
    let items: Vec<String> = d[k]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str()).map(yaml_str).collect())
        .unwrap_or_default();
    format!("[{}]", items.join(", "))
}

fn block(text: &str) -> String {
    text.trim_end()
        .lines()
        .map(|l| format!("  {l}\n"))
        .collect()
}

/// The `hypothesis:` block (vigil extension) from the answer's fields.
pub fn hypothesis(d: &Value) -> String {
    let mut s = format!(
        "hypothesis:\n  statement: {}\n",
        yaml_str(d["hypothesis"].as_str().unwrap_or(""))
    );
    for k in ["rationale", "expected_evidence", "false_positives"] {
        if let Some(v) = d[k].as_str().filter(|v| !v.trim().is_empty()) {
            s.push_str(&format!("  {k}: {}\n", yaml_str(v)));
        }
    }
    s
}

/// A hunt file.
pub fn hunt(d: &Value, id: &str, provenance: &str) -> String {
    format!(
        "id: {id}\nname: {}\ndescription: {}\ntactics: {}\nrelevantTechniques: {}\nquery: |\n{}{}{provenance}rollout: shadow\n",
        yaml_str(d["name"].as_str().unwrap_or("Drafted hunt")),
        yaml_str(d["description"].as_str().unwrap_or("")),
        list(d, "tactics"),
        list(d, "techniques"),
        block(d["query"].as_str().unwrap_or("")),
        hypothesis(d),
    )
}

/// A Scheduled rule file (trigger: more than 0 results).
pub fn rule(d: &Value, id: &str, provenance: &str) -> String {
    let freq = d["query_frequency"]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or("1h");
    let period = d["query_period"]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or(freq);
    let mut em = String::new();
    for m in d["entity_mappings"].as_array().into_iter().flatten() {
        em.push_str(&format!(
            "  - entityType: {}\n    fieldMappings:\n",
            yaml_str(m["entityType"].as_str().unwrap_or(""))
        ));
        for f in m["fieldMappings"].as_array().into_iter().flatten() {
            em.push_str(&format!(
                "      - identifier: {}\n        columnName: {}\n",
                yaml_str(f["identifier"].as_str().unwrap_or("")),
                yaml_str(f["columnName"].as_str().unwrap_or(""))
            ));
        }
    }
    let em = if em.is_empty() {
        String::new()
    } else {
        format!("entityMappings:\n{em}")
    };
    format!(
        "id: {id}\nname: {}\ndescription: {}\nseverity: {}\nkind: Scheduled\nqueryFrequency: {}\nqueryPeriod: {}\ntriggerOperator: gt\ntriggerThreshold: 0\ntactics: {}\nrelevantTechniques: {}\nquery: |\n{}{em}{}{provenance}rollout: shadow\n",
        yaml_str(d["name"].as_str().unwrap_or("Drafted rule")),
        yaml_str(d["description"].as_str().unwrap_or("")),
        d["severity"].as_str().unwrap_or("Medium"),
        yaml_str(freq),
        yaml_str(period),
        list(d, "tactics"),
        list(d, "techniques"),
        block(d["query"].as_str().unwrap_or("")),
        hypothesis(d),
    )
}

/// The answer's test cases as a tests file's content (`{tests: [...]}` as JSON), or what is
/// wrong with them. A rule needs a case that fires and a case that stays silent.
pub fn tests(d: &Value) -> Result<Value, Vec<String>> {
    let mut problems = Vec::new();
    let mut cases = Vec::new();
    for (i, t) in d["tests"].as_array().into_iter().flatten().enumerate() {
        let mut rows = Vec::new();
        for (n, line) in t["rows"]
            .as_str()
            .unwrap_or("")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
        {
            match serde_json::from_str::<Value>(line) {
                Ok(v @ Value::Object(_)) => rows.push(v),
                _ => problems.push(format!(
                    "tests[{i}].rows line {}: not one JSON object per line",
                    n + 1
                )),
            }
        }
        let table = t["table"].as_str().unwrap_or("");
        cases.push(json!({
            "name": t["name"].as_str().unwrap_or("drafted case"),
            "data": { table: rows },
            "expect": {"alerts": t["alerts"].as_u64().unwrap_or(0)},
        }));
    }
    let fires = cases
        .iter()
        .any(|c| c["expect"]["alerts"].as_u64() > Some(0));
    let silent = cases.iter().any(|c| c["expect"]["alerts"] == json!(0));
    if !(fires && silent) {
        problems.push(
            "`tests` needs at least one case that fires (alerts > 0) and one that stays silent (alerts: 0)"
                .into(),
        );
    }
    if problems.is_empty() {
        Ok(json!({ "tests": cases }))
    } else {
        Err(problems)
    }
}

/// A tests file's text for [`tests`]' value (each row a JSON flow mapping, which YAML reads).
pub fn tests_yaml(rule_file: &str, t: &Value) -> String {
    let mut s = format!(
        "# Detection tests for {rule_file}, drafted with the rule by `vigil draft` and run by `vigil test`\n# (one scheduled run ending at [sandbox] now). Check them: they are part of what the review approves.\ntests:\n"
    );
    for c in t["tests"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "  - name: {}\n    data:\n",
            yaml_str(c["name"].as_str().unwrap_or(""))
        ));
        for (table, rows) in c["data"].as_object().into_iter().flatten() {
            s.push_str(&format!("      {}:\n", yaml_str(table)));
            for r in rows.as_array().into_iter().flatten() {
                s.push_str(&format!("        - {r}\n"));
            }
        }
        s.push_str(&format!(
            "    expect:\n      alerts: {}\n",
            c["expect"]["alerts"]
        ));
    }
    s
}
