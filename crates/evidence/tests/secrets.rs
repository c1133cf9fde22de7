//! Secrets found (and not found) in realistic files.
//!
//! Every planted token is assembled at run time from a prefix and random-looking characters,
//! so that this file holds no whole token: GitHub's push protection and wavecrew's own scan
//! stay quiet about it.

use evidence::secrets::{ALLOW_MARKER, Finding, scan, shannon_entropy};
use proptest::prelude::*;

/// Random-looking characters for planted tokens.
const RANDOM: &str = "q8Zr3LmX0vTb9WnE2yKc7HsPj4DfUa6GiRo1Nt5BxQ7eYw2M";

fn random(len: usize) -> &'static str {
    &RANDOM[..len]
}

/// (rule, line) of each finding.
fn rules(findings: &[Finding]) -> Vec<(&'static str, u32)> {
    findings.iter().map(|finding| (finding.rule, finding.line)).collect()
}

/// Asserts that no finding's excerpt or message holds `secret`.
fn assert_redacted(findings: &[Finding], secret: &str) {
    for finding in findings {
        assert!(!finding.excerpt.contains(secret), "{secret} leaked in {finding:?}");
        assert!(!finding.message.contains(secret), "{secret} leaked in {finding:?}");
    }
}

#[test]
fn aws_keys_in_a_boto3_client() {
    let key_id = format!("AKIA{}", "Q3VZ7H2KX5M4PL8D");
    let secret = random(40);
    let text = format!(
        "import boto3\n\nclient = boto3.client(\n    \"s3\",\n    aws_access_key_id=\"{key_id}\",\n    \
         aws_secret_access_key=\"{secret}\",\n)\n"
    );
    let findings = scan("app/storage.py", &text);
    assert_eq!(rules(&findings), [("aws-access-key", 5), ("aws-secret-key", 6)]);
    assert_eq!(findings[0].column, 24);
    assert_eq!(findings[0].excerpt, "aws_access_key_id=\"AKIA…\",");
    assert_eq!(findings[1].excerpt, "aws_secret_access_key=\"q8Zr…\",");
    assert!(findings[0].message.starts_with("AWS access key id."));
    assert!(findings[0].message.contains("environment or a secret store"));
    assert_redacted(&findings, &key_id);
    assert_redacted(&findings, secret);
}

#[test]
fn documented_aws_example_keys_are_not_reported() {
    let text = format!(
        "# From the AWS docs\nAWS_ACCESS_KEY_ID=AKIA{}\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCY{}\n",
        "IOSFODNN7EXAMPLE", "EXAMPLEKEY"
    );
    assert_eq!(scan("docs/setup.sh", &text), []);
}

#[test]
fn issuer_tokens_in_a_ci_environment_file() {
    let github = format!("ghp_{}", random(36));
    let fine_grained = format!("github_pat_11ABCDEFG0{}_{}", random(12), random(40));
    let gitlab = format!("glpat-{}", random(20));
    let slack = format!("xoxb-2048{}-{}", "1234567", random(24));
    let stripe = format!("sk_live_{}", random(24));
    let google = format!("AIza{}", random(35));
    let anthropic = format!("sk-ant-api03-{}", random(40));
    let openai = format!("sk-proj-{}", random(40));
    let text = format!(
        "# CI secrets, pasted by mistake\n\
         GITHUB_TOKEN={github}\n\
         GH_FINE={fine_grained}\n\
         GITLAB={gitlab}\n\
         SLACK_BOT={slack}\n\
         STRIPE={stripe}\n\
         MAPS={google}\n\
         CLAUDE={anthropic}\n\
         OPENAI={openai}\n"
    );
    let findings = scan(".env", &text);
    assert_eq!(
        rules(&findings),
        [
            ("github-token", 2),
            ("github-token", 3),
            ("gitlab-token", 4),
            ("slack-token", 5),
            ("stripe-key", 6),
            ("google-api-key", 7),
            ("anthropic-key", 8),
            ("openai-key", 9),
        ]
    );
    for secret in [&github, &fine_grained, &gitlab, &slack, &stripe, &google, &anthropic, &openai] {
        assert_redacted(&findings, secret);
    }
    assert_eq!(findings[0].excerpt, "GITHUB_TOKEN=ghp_…");
}

#[test]
fn placeholder_tokens_are_not_reported() {
    let text = format!(
        "token: ghp_{}\nopenai: sk-{}\nexample: sk-this-is-not-a-real-key-at-all\n",
        "x".repeat(36),
        "a".repeat(48)
    );
    assert_eq!(scan("config.yaml", &text), []);
}

#[test]
fn private_key_block_is_reported_once_by_its_header() {
    let text = format!(
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA{}\n{}\n-----END RSA PRIVATE KEY-----\n",
        random(40),
        random(44)
    );
    let findings = scan("deploy/id_rsa", &text);
    assert_eq!(rules(&findings), [("private-key", 1)]);
    assert_eq!(findings[0].excerpt, "-----BEGIN RSA PRIVATE KEY-----");
}

#[test]
fn private_key_embedded_in_json_is_reported_and_redacted() {
    let material = format!("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC{}", random(40));
    let text = format!(
        "{{\n  \"type\": \"service_account\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{material}\\n-----END PRIVATE KEY-----\\n\"\n}}\n"
    );
    let findings = scan("gcp-credentials.json", &text);
    assert_eq!(rules(&findings), [("private-key", 3)]);
    assert_redacted(&findings, &material);
}

#[test]
fn code_that_parses_pem_headers_is_not_a_key() {
    let text = "const HEADER: &str = \"-----BEGIN PRIVATE KEY-----\";\n\
                fn is_key(text: &str) -> bool {\n    text.starts_with(HEADER)\n}\n";
    assert_eq!(scan("src/pem.rs", text), []);
}

#[test]
fn jwt_in_a_test_fixture() {
    let jwt =
        format!("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.{}", random(43));
    let text = format!("const session = {{\n  user: 'ada',\n  jwt: '{jwt}',\n}};\n");
    let findings = scan("web/src/session.test.ts", &text);
    assert_eq!(rules(&findings), [("jwt", 3)]);
    assert_eq!(findings[0].excerpt, "jwt: 'eyJh…',");
}

#[test]
fn credentials_in_urls_and_bearer_headers() {
    let password = "Tr0ub4dor-3x9";
    let bearer = random(32);
    let text = format!(
        "DATABASE_URL = \"postgres://app:{password}@db.internal:5432/app\"\n\
         headers = {{\"Authorization\": \"Bearer {bearer}\"}}\n\
         LOCAL_URL = \"postgres://app:${{DB_PASSWORD}}@localhost/app\"\n"
    );
    let findings = scan("settings.py", &text);
    assert_eq!(rules(&findings), [("credentials-in-url", 1), ("bearer-token", 2)]);
    assert_redacted(&findings, password);
    assert_redacted(&findings, bearer);
}

#[test]
fn literal_credentials_in_code_are_reported() {
    let text = "DB_PASSWORD = \"hunter2-Staging!\"\n\
                client = Client(api_key='k7Hs9Pj4DfUa')\n\
                const clientSecret: string = \"Zm9vYmFyLXNlY3JldA\";\n\
                password := \"s3cr3t-pass\"\n";
    let findings = scan("mixed.txt", text);
    assert_eq!(
        rules(&findings),
        [
            ("credential-assignment", 1),
            ("credential-assignment", 2),
            ("credential-assignment", 3),
            ("credential-assignment", 4)
        ]
    );
    assert_eq!(findings[0].excerpt, "DB_PASSWORD = \"hunt…\"");
    assert_eq!(findings[1].column, 26);
    assert_redacted(&findings, "hunter2-Staging!");
    assert_redacted(&findings, "s3cr3t-pass");
}

#[test]
fn variables_placeholders_and_labels_are_not_credentials() {
    let text = r#"import os

password = os.environ["DB_PASSWORD"]
token = get_token(user)
api_key = ""
secret = "changeme"
SECRET_KEY = "<your secret key>"
auth_token = "${AUTH_TOKEN}"
github_token = "{{ secrets.GITHUB_TOKEN }}"
password = "DB_PASSWORD"
token_url = "https://auth.example.org/token"
labels = {"password": "Password", "forgot_password": "Forgot your password?"}
password_file = "/run/secrets/db_password"
if token == "expired":
    refresh()
DEFAULT_API_KEY = "xxxxxxxxxxxxxxxx"
api_key = "test-key-123"
"#;
    assert_eq!(scan("app/config.py", text), []);
}

#[test]
fn dotenv_and_yaml_bare_values() {
    let text = "# local development\nDB_HOST=localhost\nDB_PASSWORD=pg-L0cal-9f3k\nREDIS_PASSWORD=\n\
                API_TOKEN=${API_TOKEN}\nexport SESSION_SECRET=Jk8sd7f6g5h4\n";
    let findings = scan(".env.local", text);
    assert_eq!(rules(&findings), [("credential-assignment", 3), ("credential-assignment", 6)]);

    let yaml = "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: pg-Pr0d-77aa\n      POSTGRES_USER: app\n      \
                token: !vault |\n";
    assert_eq!(rules(&scan("docker-compose.yml", yaml)), [("credential-assignment", 4)]);

    // In code an unquoted value is an expression, not a literal.
    assert_eq!(scan("app.py", "DB_PASSWORD=load_password()\n"), []);
}

#[test]
fn example_files_only_get_known_formats() {
    let text = format!("DB_PASSWORD=super-secret-value\nAPI_KEY=abc123def456ghi789jklmno\nGH=ghp_{}\n", random(36));
    assert_eq!(rules(&scan(".env.example", &text)), [("github-token", 3)]);
    assert_eq!(rules(&scan("config.sample.yaml", &text)), [("github-token", 3)]);
    // A name that merely contains the word is an ordinary file.
    let code = "SMTP_PASSWORD = \"mail-Pa55-word\"\n";
    assert_eq!(rules(&scan("app/email_template.py", code)), [("credential-assignment", 1)]);
}

#[test]
fn high_entropy_literals_are_reported() {
    let base64 = random(40);
    let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"[..48].to_string();
    let text = format!("SIGNING = \"{base64}\"\nconst salt = '{hex}';\nshort = \"{}\"\n", random(12));
    let findings = scan("src/keys.js", &text);
    assert_eq!(rules(&findings), [("high-entropy-string", 1), ("high-entropy-string", 2)]);
    assert_redacted(&findings, base64);
    assert_redacted(&findings, &hex);
}

#[test]
fn hashes_identifiers_and_ids_are_not_high_entropy() {
    let text = r#"const handler = "handleUserLogin2FactorAuthCallback";
const table = "user_profile_2024_final_backup";
const id = "123e4567-e89b-12d3-a456-426614174000";
const head = "a9b5154c0e7d4b1f8e2c6d3a7f9b0c1d2e3f4a5b";
const sri = "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC";
const route = "/api/v2/users/profile/settings";
"#;
    assert_eq!(scan("src/constants.ts", text), []);
}

#[test]
fn character_sets_target_names_and_settings_are_not_secrets() {
    let text = r#"ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
TARGET = "x86_64-unknown-linux-gnu"
BINDING = "sqlite3_create_function_v2"
USE_CREDENTIALS = 'use-credentials'
TOKEN_HEADER = "X-Auth-Token"
"#;
    assert_eq!(scan("build.py", text), []);
    let workflow = "permissions:\n  contents: read\n  id-token: write\n";
    assert_eq!(scan(".github/workflows/release.yml", workflow), []);
    let fetch = "await fetch(url, { credentials: 'include', method: 'POST' });\n";
    assert_eq!(scan("web/src/api.js", fetch), []);
}

#[test]
fn lockfile_hashes_are_not_secrets() {
    let package_lock = r#"{
  "name": "web",
  "lockfileVersion": 3,
  "packages": {
    "node_modules/react": {
      "version": "18.3.1",
      "resolved": "https://registry.npmjs.org/react/-/react-18.3.1.tgz",
      "integrity": "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ=="
    }
  }
}
"#;
    assert_eq!(scan("web/package-lock.json", package_lock), []);
    let cargo_lock = "[[package]]\nname = \"regex\"\nversion = \"1.11.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
                      checksum = \"b544ef1b4eac5dc2db33ea63606ae9ffcfac26c1416a2806ae0bf5f56b201191\"\n";
    assert_eq!(scan("Cargo.lock", cargo_lock), []);
    let yarn = "react@^18.0.0:\n  version \"18.3.1\"\n  resolved \"https://registry.yarnpkg.com/react/-/react-18.3.1.tgz#4a0d7c8f2b1e3d5a6c9b8e7f0a1d2c3b4e5f6a7b\"\n  \
                integrity sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==\n";
    assert_eq!(scan("yarn.lock", yarn), []);
    // A real token in a lockfile is still a leak.
    let leaked = format!("{cargo_lock}# ghp_{}\n", random(36));
    assert_eq!(rules(&scan("Cargo.lock", &leaked)), [("github-token", 6)]);
}

#[test]
fn git_revisions_are_not_secrets() {
    let text = "[dependencies]\nserde = { git = \"https://github.com/serde-rs/serde\", rev = \"3f9f7d4d1e5c2b8a0f6e4d2c1b0a9f8e7d6c5b4a\" }\n";
    assert_eq!(scan("Cargo.toml", text), []);
}

#[test]
fn the_escape_hatch_skips_a_line() {
    let token = format!("ghp_{}", random(36));
    let text = format!("FIXTURE = \"{token}\"  # {ALLOW_MARKER}: fake token for the parser test\nREAL = \"{token}\"\n");
    assert_eq!(rules(&scan("tests/test_tokens.py", &text)), [("github-token", 2)]);
}

#[test]
fn secrets_in_comments_are_reported() {
    let text = format!("// old key, do not use: AKIA{}\nfn main() {{}}\n", "Z7Q3VH2KX5M4PL8D");
    assert_eq!(rules(&scan("src/main.rs", &text)), [("aws-access-key", 1)]);
}

#[test]
fn columns_count_characters_and_long_lines_are_cut() {
    let token = format!("ghp_{}", random(36));
    let text = format!("s = \"héllo wörld\" + \"{token}\"\n");
    let findings = scan("a.py", &text);
    assert_eq!(findings[0].column, 22);

    let long = format!("{}{token}{}", "a ".repeat(300), " b".repeat(300));
    let findings = scan("minified.js", &long);
    assert_eq!(rules(&findings), [("github-token", 1)]);
    assert!(findings[0].excerpt.starts_with('…') && findings[0].excerpt.ends_with('…'));
    assert!(findings[0].excerpt.contains("ghp_…"));
    assert!(findings[0].excerpt.chars().count() <= 202);
}

#[test]
fn shannon_entropy_values() {
    assert_eq!(shannon_entropy(""), 0.0);
    assert_eq!(shannon_entropy("zzzz"), 0.0);
    assert_eq!(shannon_entropy("abab"), 1.0);
    assert_eq!(shannon_entropy("0123456789abcdef"), 4.0);
    assert!(shannon_entropy(RANDOM) > 4.5);
}

/// Lines of arbitrary text mixing real-looking fragments, to reach every rule.
fn fragments() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("password = \"".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("=".to_string()),
        Just(": ".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just(" ".to_string()),
        Just("AKIA".to_string()),
        Just("ghp_".to_string()),
        Just("sk-".to_string()),
        Just("eyJ".to_string()),
        Just("-----BEGIN PRIVATE KEY-----".to_string()),
        Just("Bearer ".to_string()),
        Just("://u:".to_string()),
        Just("@".to_string()),
        Just("é…💥".to_string()),
        "[A-Za-z0-9+/_-]{0,48}",
        any::<String>(),
    ];
    prop::collection::vec(fragment, 0..30).prop_map(|parts| parts.concat())
}

fn paths() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(".env".to_string()),
        Just("config.yaml".to_string()),
        Just("Cargo.lock".to_string()),
        Just("src/app.py".to_string()),
        Just(".env.example".to_string()),
        any::<String>(),
    ]
}

proptest! {
    #[test]
    fn scan_never_panics_and_lines_are_in_range(path in paths(), text in fragments()) {
        let line_count = text.lines().count();
        for finding in scan(&path, &text) {
            prop_assert!(finding.line >= 1 && finding.line as usize <= line_count, "{finding:?}");
            prop_assert!(finding.column >= 1);
        }
    }

    #[test]
    fn planted_tokens_never_appear_in_excerpts(
        before in "[^\r\n]{0,80}",
        body in "[A-Za-z0-9]{36}",
        after in "[^\r\n]{0,80}",
        path in paths(),
    ) {
        let token = format!("ghp_{body}");
        prop_assume!(shannon_entropy(&token) >= 3.5);
        let text = format!("first line\n{before} {token} {after}\nlast line\n");
        let findings = scan(&path, &text);
        prop_assert!(findings.iter().any(|finding| finding.rule == "github-token" && finding.line == 2));
        for finding in &findings {
            prop_assert!(!finding.excerpt.contains(&token), "{finding:?}");
        }
    }
}
