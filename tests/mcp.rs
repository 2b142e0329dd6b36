//! `vigil mcp` spoken to as an MCP client does: JSON-RPC 2.0 over the child's stdio, one
//! message per line. Initialize (the current protocol version, and an unsupported one that the
//! server answers with its own), tools/list, each tool with good input, a tool failure
//! (`isError: true` with the diagnostics as text), bad parameters (-32602), and nothing but
//! protocol on stdout.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(common::vigil_bin())
            .arg("-C")
            .arg(common::manifest_dir())
            .arg("mcp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Client {
            child,
            stdin,
            stdout,
        }
    }

    fn send(&mut self, v: Value) {
        writeln!(self.stdin, "{v}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn recv(&mut self) -> Value {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not JSON-RPC on stdout ({e}): {line:?}"))
    }

    fn call(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let r = self.recv();
        assert_eq!(r["id"], id, "{r}");
        r
    }

    fn initialize(&mut self, version: &str) -> Value {
        let r = self.call(
            1,
            "initialize",
            json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}),
        );
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        r
    }

    fn tool(&mut self, id: u64, name: &str, args: Value) -> Value {
        self.call(id, "tools/call", json!({"name": name, "arguments": args}))
    }

    fn finish(mut self) -> (Option<i32>, String) {
        drop(self.stdin);
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stdout, &mut rest).unwrap();
        assert!(rest.trim().is_empty(), "stray output on stdout: {rest}");
        let code = self.child.wait().unwrap().code();
        let mut err = String::new();
        std::io::Read::read_to_string(self.child.stderr.as_mut().unwrap(), &mut err).unwrap();
        (code, err)
    }
}

fn text(r: &Value) -> Value {
    serde_json::from_str(r["result"]["content"][0]["text"].as_str().unwrap()).unwrap()
}

#[test]
fn vigil_mcp_speaks_the_protocol() {
    let mut c = Client::start();
    let init = c.initialize("2025-06-18");
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18", "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "vigil");
    assert!(init["result"]["capabilities"]["tools"].is_object());

    let list = c.call(2, "tools/list", json!({}));
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "validate_query",
            "list_tables",
            "describe_table",
            "dry_run_query",
            "hash_query",
            "validate_file",
            "explain_diagnostic"
        ]
    );
    for t in list["result"]["tools"].as_array().unwrap() {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
    }

    // validate_query: a good query, and a misspelled column (a tool failure, not a protocol one).
    let ok = c.tool(
        3,
        "validate_query",
        json!({"query": "SigninLogs | where IPAddress == '1.2.3.4' | project UserPrincipalName"}),
    );
    assert_eq!(ok["result"]["isError"], false, "{ok}");
    assert_eq!(
        text(&ok)["result"]["columns"],
        json!([["UserPrincipalName", "string"]])
    );
    let bad = c.tool(
        4,
        "validate_query",
        json!({"query": "SigninLogs | where IpAdress == '1.2.3.4'"}),
    );
    assert_eq!(bad["result"]["isError"], true, "{bad}");
    let d = &text(&bad)["diagnostics"][0];
    assert_eq!(d["code"], "KQL201");
    assert_eq!(d["start"], 19);

    // list_tables / describe_table from the repository's sandbox and catalog.
    let tables = text(&c.tool(5, "list_tables", json!({})));
    assert!(
        tables["tables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "SigninLogs"),
        "{tables}"
    );
    let cols = text(&c.tool(6, "describe_table", json!({"table": "SigninLogs"})));
    assert!(
        cols["columns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "IPAddress" && c["type"] == "string"),
        "{cols}"
    );
    let missing = c.tool(7, "describe_table", json!({"table": "NoSuchTable"}));
    assert_eq!(missing["result"]["isError"], true);

    // dry_run_query: capped and redacted.
    let dr = text(&c.tool(
        8,
        "dry_run_query",
        json!({"query": "SigninLogs | project UserPrincipalName, IPAddress", "max_rows": 3}),
    ));
    assert_eq!(dr["rows"].as_array().unwrap().len(), 3, "{dr}");
    assert!(dr["rows_returned"].as_u64().unwrap() > 3);
    assert_eq!(
        dr["rows"][0],
        json!({"UserPrincipalName": "<email>", "IPAddress": "<ip>"})
    );

    // hash_query matches `vigil hash`.
    let h = text(&c.tool(9, "hash_query", json!({"query": "SigninLogs\n| take 1\n"})));
    assert_eq!(
        h["query_sha256"],
        vigil::hash::query_sha256("SigninLogs\n| take 1\n")
    );

    // validate_file: a bundled file is clean; a path out of the repository is refused.
    let f = c.tool(
        10,
        "validate_file",
        json!({"path": "detections/entra_password_spray.yaml"}),
    );
    assert_eq!(f["result"]["isError"], false, "{f}");
    let out = c.tool(11, "validate_file", json!({"path": "../../etc/passwd"}));
    assert_eq!(out["result"]["isError"], true);
    assert!(text(&out)["error"]
        .as_str()
        .unwrap()
        .contains("outside the repository"));

    // explain_diagnostic from the catalog.
    let e = text(&c.tool(12, "explain_diagnostic", json!({"code": "POL013"})));
    assert_eq!(e["name"], "guard_cleared_without_review", "{e}");

    // Bad parameters and unknown tools are JSON-RPC errors -32602.
    for (id, name, args) in [
        (13, "hash_query", json!({"query": 5})),
        (14, "validate_query", json!({})),
        (
            15,
            "dry_run_query",
            json!({"query": "print 1", "max_rows": 100000}),
        ),
        (16, "no_such_tool", json!({})),
    ] {
        let r = c.tool(id, name, args);
        assert_eq!(r["error"]["code"], -32602, "{r}");
    }
    let (code, _stderr) = c.finish();
    assert_eq!(code, Some(0));
}

#[test]
fn an_unsupported_protocol_version_is_negotiated() {
    let mut c = Client::start();
    let init = c.initialize("1999-01-01");
    let v = init["result"]["protocolVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(v.starts_with("20") && v != "1999-01-01", "{init}");
    let list = c.call(2, "tools/list", json!({}));
    assert!(list["result"]["tools"].is_array(), "{list}");
    let (code, _) = c.finish();
    assert_eq!(code, Some(0));
}
