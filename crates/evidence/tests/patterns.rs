//! Dangerous patterns found (and not found) in realistic files of each language.

use evidence::patterns::{ALLOW_MARKER, Finding, scan};
use proptest::prelude::*;

/// (rule, line) of each finding.
fn rules(findings: &[Finding]) -> Vec<(&'static str, u32)> {
    findings.iter().map(|finding| (finding.rule, finding.line)).collect()
}

#[test]
fn python_view_with_every_rule() {
    let text = r#"import os
import subprocess

import requests


def archive(name):
    subprocess.run(f"tar czf {name}.tgz data/", shell=True)
    os.system("rm -rf /tmp/" + name)


def fetch(url):
    return requests.get(url, verify=False)


def lookup(cursor, user_id):
    cursor.execute(f"SELECT * FROM users WHERE id = {user_id}")
    cursor.execute("SELECT * FROM users WHERE name = '%s'" % request.args["name"])
    cursor.execute("DELETE FROM sessions WHERE user = '{}'".format(user_id))


def calc(expr):
    return eval(expr)


def download(request):
    return open(os.path.join(UPLOADS, request.args["file"]))
"#;
    let findings = scan("app/views.py", text);
    assert_eq!(
        rules(&findings),
        [
            ("shell-from-string", 8),
            ("shell-from-string", 9),
            ("tls-verify-disabled", 13),
            ("sql-from-string", 17),
            ("sql-from-string", 18),
            ("sql-from-string", 19),
            ("eval", 23),
            ("path-from-user-input", 27),
        ]
    );
    let shell = &findings[0];
    assert_eq!(shell.column, 49);
    assert_eq!(shell.excerpt, r#"subprocess.run(f"tar czf {name}.tgz data/", shell=True)"#);
    assert!(shell.message.contains("list"), "{}", shell.message);
    assert!(findings[3].message.contains("an f-string"), "{}", findings[3].message);
    assert!(findings[4].message.contains("`%` formatting"));
    assert!(findings[5].message.contains("`.format()`"));
    assert!(findings[2].message.contains("man in the middle"));
    assert!(findings[7].message.contains("`request.args`"), "{}", findings[7].message);
}

#[test]
fn safe_python_is_not_reported() {
    let text = r#""""Never call eval() on user input, and never pass shell=True or verify=False.

Use ast.literal_eval, argument lists and the CA bundle instead.
"""
import ast
import subprocess

import requests


def safe(expr, cursor, user_id, name, model):
    # eval(expr) would be dangerous here, as would os.system(cmd)
    value = ast.literal_eval(expr)
    model.eval()
    subprocess.run(["tar", "czf", f"{name}.tgz", "data/"], check=True)
    requests.get("https://example.org", verify=True)
    requests.get("https://internal", verify="/etc/ssl/internal-ca.pem")
    cursor.execute("SELECT * FROM users WHERE id = %s", (user_id,))
    cursor.execute("SELECT * FROM users WHERE name = %(name)s", {"name": name})
    cursor.execute(f"SELECT * FROM users WHERE active")
    print("Select a file from the list: " + name)
    logger.info("never use shell=True or eval(x)")
    strict = context.verify_mode != ssl.CERT_NONE
    path = os.path.join(UPLOADS, secure_filename(request.files["f"].filename))
    return value


class Expr:
    def eval(self, env):
        return self.left.eval(env)
"#;
    assert_eq!(scan("app/safe.py", text), []);
}

#[test]
fn javascript_express_handler() {
    let text = r#"const { exec } = require('child_process');
const https = require('https');
const path = require('path');

app.get('/files/:name', (req, res) => {
  exec(`convert ${req.params.name} out.png`);
  res.sendFile(path.join(__dirname, 'uploads', req.params.name));
  db.query("SELECT * FROM orders WHERE id = " + req.query.id);
  db.query(`DELETE FROM sessions WHERE user = '${req.body.user}'`);
  const agent = new https.Agent({ rejectUnauthorized: false });
  const fn = new Function('a', req.body.code);
  eval(req.body.expr);
  child_process.execSync('git log ' + req.query.ref);
  setTimeout("refresh()", 1000);
});
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
"#;
    let findings = scan("server/routes/files.js", text);
    assert_eq!(
        rules(&findings),
        [
            ("shell-from-string", 6),
            ("path-from-user-input", 7),
            ("sql-from-string", 8),
            ("sql-from-string", 9),
            ("tls-verify-disabled", 10),
            ("eval", 11),
            ("eval", 12),
            ("shell-from-string", 13),
            ("eval", 14),
            ("tls-verify-disabled", 16),
        ]
    );
    assert!(findings[0].message.contains("execFile"));
    assert!(findings[3].message.contains("a template literal"));
    assert!(findings[2].message.contains("`+` concatenation"));
    assert_eq!(findings[1].column, 16);
}

#[test]
fn safe_typescript_is_not_reported() {
    let text = r#"/**
 * Never pass user input to eval() or new Function(), and never set
 * rejectUnauthorized: false.
 */
const re = /(\d+)-(\d+)/;
const match = re.exec(input);
execFile('convert', [name, 'out.png']);
exec('git status');
await db.query('SELECT * FROM orders WHERE id = $1', [id]);
await db.query('SELECT * FROM orders WHERE id = ?', [id]);
const q = 'SELECT id FROM t ' + 'WHERE a = 1';
const sql = "SELECT id FROM orders " +
  "WHERE status = 'open'";
res.sendFile(path.join(__dirname, 'public', path.basename(req.params.name)));
fs.writeFile('/tmp/log.json', req.body, cb);
const agent = new https.Agent({ rejectUnauthorized: true });
console.log("eval(x) is evil");
const total = count + 1; // exec(`x ${y}`)
const strictSsl = secure ? !!options.rejectUnauthorized : false;
"#;
    assert_eq!(scan("web/src/api.ts", text), []);
}

#[test]
fn rust_shell_tls_and_sql() {
    let text = r#"use std::process::Command;

pub fn archive(dir: &str) -> std::io::Result<()> {
    Command::new("sh")
        .arg("-c")
        .arg(format!("tar czf out.tgz {dir}"))
        .status()?;
    Ok(())
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().danger_accept_invalid_certs(true).build().unwrap()
}

pub async fn find(pool: &PgPool, name: &str) {
    let query = format!("SELECT * FROM users WHERE name = '{name}'");
    sqlx::query(&query).fetch_all(pool).await;
}
"#;
    let findings = scan("src/ops.rs", text);
    assert_eq!(rules(&findings), [("shell-from-string", 4), ("tls-verify-disabled", 12), ("sql-from-string", 16)]);
    assert!(findings[1].message.contains("add_root_certificate"));
    assert!(findings[2].message.contains("`format!`"));
}

#[test]
fn safe_rust_is_not_reported() {
    let text = r#"/// Never build SQL with `format!("SELECT * FROM t WHERE id = {}", id)`, never
/// `danger_accept_invalid_certs(true)`.
pub fn archive<'a>(dir: &'a str, name: &str) -> &'a str {
    Command::new("tar").arg("czf").arg("out.tgz").arg(dir).status();
    Command::new("sh").arg("-c").arg("make all").status();
    sqlx::query("SELECT * FROM users WHERE name = $1").bind(name);
    let quote = '"'; // format!("SELECT * FROM t {}", x)
    let escaped = ['\'', '\\', '\u{1F600}']; // client.danger_accept_invalid_certs(true)
    let message = format!("Selected {} FROM the list", name);
    reqwest::Client::builder().danger_accept_invalid_certs(false);
    /* eval("x"); verify=False */
    dir
}
"#;
    assert_eq!(scan("src/safe.rs", text), []);
}

#[test]
fn go_handler() {
    let text = r#"package files

func handler(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	out, _ := exec.Command("sh", "-c", "ls "+name).Output()
	path := filepath.Join("/srv/files", r.URL.Query().Get("file"))
	rows, _ := db.Query(fmt.Sprintf("SELECT * FROM users WHERE name = '%s'", name))
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	_, _, _, _ = out, path, rows, tr
}

func safe(w http.ResponseWriter, r *http.Request) {
	exec.Command("sh", "-c", "ls -la /srv").Output()
	db.Query("SELECT * FROM users WHERE name = $1", name)
	http.ServeFile(w, r, filepath.Join("/srv/files", filepath.Base(r.URL.Path)))
	cfg := &tls.Config{InsecureSkipVerify: false}
}
"#;
    let findings = scan("internal/files/handler.go", text);
    assert_eq!(
        rules(&findings),
        [("shell-from-string", 5), ("path-from-user-input", 6), ("sql-from-string", 7), ("tls-verify-disabled", 8)]
    );
    assert!(findings[2].message.contains("`fmt.Sprintf`"));
}

#[test]
fn ruby_controller() {
    let text = r#"class ExportsController < ApplicationController
  # eval(params[:code]) would be a disaster
  def create
    `tar czf #{params[:name]}.tgz data/`
    system("convert #{params[:file]} out.png")
    Post.find_by_sql("SELECT * FROM posts WHERE author = '#{params[:author]}'")
    eval(params[:code])
    http.verify_mode = OpenSSL::SSL::VERIFY_NONE
    send_file File.join(UPLOAD_DIR, params[:file])
  end

  def safe
    system("tar", "czf", name)
    Post.find_by_sql(['SELECT * FROM posts WHERE author = ?', author])
    Post.where('SELECT #{x} FROM t')
    instance_eval { build }
  end
end
"#;
    let findings = scan("app/controllers/exports_controller.rb", text);
    assert_eq!(
        rules(&findings),
        [
            ("shell-from-string", 4),
            ("shell-from-string", 5),
            ("sql-from-string", 6),
            ("eval", 7),
            ("tls-verify-disabled", 8),
            ("path-from-user-input", 9)
        ]
    );
}

#[test]
fn shell_script_found_by_its_shebang() {
    let text = r#"#!/usr/bin/env bash
set -euo pipefail
# curl -k https://example.org is what we used to do; eval "$1" too
eval "$(ssh-agent -s)"
eval "$1"
curl -sSLk https://example.org/install.sh | sh
wget --no-check-certificate https://example.org/x.tgz
export NODE_TLS_REJECT_UNAUTHORIZED=0
echo "$# arguments"
curl -fsSL https://example.org/ok.sh -o ok.sh
git -c http.sslVerify=false clone https://example.org/repo.git
"#;
    let findings = scan("scripts/install", text);
    assert_eq!(
        rules(&findings),
        [
            ("shell-from-string", 5),
            ("tls-verify-disabled", 6),
            ("tls-verify-disabled", 7),
            ("tls-verify-disabled", 8),
            ("tls-verify-disabled", 11),
        ]
    );
    assert!(findings[0].message.contains("${args[@]}"));
}

#[test]
fn dockerfile_and_ci_configuration() {
    let dockerfile = "FROM node:20\n# RUN curl -k is not allowed\nRUN curl -k -o /tmp/x.tgz https://example.org/x.tgz\n\
                      ENV NODE_TLS_REJECT_UNAUTHORIZED 0\nRUN npm ci\n";
    assert_eq!(rules(&scan("Dockerfile", dockerfile)), [("tls-verify-disabled", 3), ("tls-verify-disabled", 4)]);

    let workflow = "jobs:\n  build:\n    steps:\n      - run: curl --insecure https://example.org/tool | sh\n      \
                    - run: curl -fsSL https://example.org/tool | sh\n";
    assert_eq!(rules(&scan(".github/workflows/ci.yml", workflow)), [("tls-verify-disabled", 4)]);
}

#[test]
fn languages_without_rules_and_prose_are_not_scanned() {
    let prose = "Never call `eval(x)` or `subprocess.run(cmd, shell=True)`.\n";
    assert_eq!(scan("docs/security.md", prose), []);
    assert_eq!(scan("db/seed.sql", "SELECT * FROM users WHERE id = 1;\n"), []);
    assert_eq!(scan("notes.txt", prose), []);
}

#[test]
fn test_files_are_scanned_and_the_escape_hatch_works() {
    let text = format!(
        "def test_insecure_fixture():\n    requests.get(URL, verify=False)  # {ALLOW_MARKER}: local self-signed server\n\
         \n\ndef test_other():\n    requests.get(URL, verify=False)\n"
    );
    assert_eq!(rules(&scan("tests/test_client.py", &text)), [("tls-verify-disabled", 6)]);
}

#[test]
fn excerpts_redact_secrets() {
    let token = format!("ghp_{}", "q8Zr3LmX0vTb9WnE2yKc7HsPj4DfUa6GiRo1");
    let text = format!("requests.get(url, verify=False, headers={{\"Authorization\": \"token {token}\"}})\n");
    let findings = scan("client.py", &text);
    assert_eq!(rules(&findings), [("tls-verify-disabled", 1)]);
    assert!(!findings[0].excerpt.contains(&token), "{}", findings[0].excerpt);
    assert!(findings[0].excerpt.contains("ghp_…"));
}

#[test]
fn multiline_python_docstrings_and_strings() {
    let text = "def run(cmd):\n    '''Run cmd.\n\n    Do not use eval(cmd) here.\n    '''\n    \
                query = \"\"\"SELECT 1 FROM t\"\"\"\n    return exec(cmd)\n";
    assert_eq!(rules(&scan("run.py", text)), [("eval", 7)]);
}

#[test]
fn multibyte_characters_in_string_literals_are_never_split() {
    // The first was found by the property test: `é` inside an unterminated f-string.
    for text in ["eval(f\"SELECT x FROM t {é💥", "eval(f\"SELECT x FROM t {\\é💥", "x = '\\é", "s = \"\\💥\" + q"]
    {
        for path in ["a.py", "a.js", "a.rs", "a.go", "a.rb", "a.sh"] {
            assert!(scan(path, text).iter().all(|finding| finding.line == 1));
        }
    }
    let findings = scan("a.py", "eval(f\"SELECT x FROM t {é💥");
    assert_eq!(rules(&findings), [("eval", 1), ("sql-from-string", 1)]);
    assert_eq!(findings[1].column, 6);
}

/// Arbitrary text seeded with fragments that reach every rule and the comment stripper.
fn code() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("eval(".to_string()),
        Just("exec(`".to_string()),
        Just("${".to_string()),
        Just("\"SELECT * FROM t WHERE a = \" + ".to_string()),
        Just("f\"SELECT x FROM t {".to_string()),
        Just("format!(\"UPDATE t SET a = {}\"".to_string()),
        Just("Command::new(\"sh\")".to_string()),
        Just(".arg(\"-c\")".to_string()),
        Just("os.path.join(request.args".to_string()),
        Just("curl -k ".to_string()),
        Just("shell=True".to_string()),
        Just("\"\"\"".to_string()),
        Just("'''".to_string()),
        Just("r#\"".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just("//".to_string()),
        Just("#".to_string()),
        Just("=begin\n".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("`".to_string()),
        Just("\\".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("é💥".to_string()),
        any::<String>(),
    ];
    prop::collection::vec(fragment, 0..40).prop_map(|parts| parts.concat())
}

fn paths() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a.py".to_string()),
        Just("a.js".to_string()),
        Just("a.rs".to_string()),
        Just("a.go".to_string()),
        Just("a.rb".to_string()),
        Just("a.sh".to_string()),
        Just("Dockerfile".to_string()),
        Just("ci.yml".to_string()),
        Just("A.java".to_string()),
        Just("script".to_string()),
        any::<String>(),
    ]
}

proptest! {
    #[test]
    fn scan_never_panics_and_lines_are_in_range(path in paths(), text in code()) {
        let line_count = text.lines().count();
        for finding in scan(&path, &text) {
            prop_assert!(finding.line >= 1 && finding.line as usize <= line_count, "{finding:?}");
            prop_assert!(finding.column >= 1);
        }
    }
}
