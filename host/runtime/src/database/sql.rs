//! Small facts about SQL text that the backends need before running it.

/// The first keyword of a statement, skipping whitespace and comments, upper-cased.
pub(crate) fn first_keyword(statement: &str) -> String {
    let mut rest = statement;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, tail)| tail);
        } else if rest.starts_with("/*") {
            rest = after_block_comment(rest);
        } else {
            break;
        }
    }
    rest.chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>().to_ascii_uppercase()
}

/// What follows the block comment `text` starts with; Postgres's block comments nest.
fn after_block_comment(text: &str) -> &str {
    let mut depth = 0usize;
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        if rest.starts_with("/*") {
            depth += 1;
            at += 2;
        } else if rest.starts_with("*/") {
            depth -= 1;
            at += 2;
            if depth == 0 {
                return &text[at..];
            }
        } else {
            at += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    ""
}

/// Whether a statement most likely only reads. A wrong guess costs a retry, never correctness:
/// the backend upgrades to a write transaction when a "read" turns out to write.
pub(crate) fn looks_read_only(statement: &str) -> bool {
    matches!(first_keyword(statement).as_str(), "SELECT" | "WITH" | "VALUES")
}

/// Whether a read can run alone, outside the unit of work's transaction, and give the same
/// result. Under READ COMMITTED each statement sees the data committed when it starts, in a
/// transaction or not, and the read-only session refuses whatever writes or locks rows, which
/// then runs inside the transaction. What the session cannot refuse is named here: locks and
/// settings scoped to the transaction, and its id, which alone would end with the statement.
/// Row-lock clauses are named too, only to spare the refused attempt.
pub(crate) fn reads_alone(statement: &str) -> bool {
    const TRANSACTION_SCOPED: [&str; 8] = [
        "ADVISORY_XACT_LOCK",
        "SET_CONFIG",
        "TXID_CURRENT",
        "PG_CURRENT_XACT_ID",
        " FOR UPDATE",
        " FOR NO KEY UPDATE",
        " FOR SHARE",
        " FOR KEY SHARE",
    ];
    let upper = statement.to_ascii_uppercase();
    looks_read_only(statement) && !TRANSACTION_SCOPED.iter().any(|name| upper.contains(name))
}

/// Whether `statement` holds more than one statement: a `;` outside quotes and comments
/// with more than whitespace and comments after it. SQLite would run them all, while a
/// Postgres prepared statement refuses them, so SQLite refuses them too.
pub(crate) fn has_several_statements(statement: &str) -> bool {
    let bytes = statement.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            quote @ (b'\'' | b'"' | b'`') => at = closing(bytes, at + 1, quote),
            b'[' => at = closing(bytes, at + 1, b']'),
            b'-' if bytes.get(at + 1) == Some(&b'-') => {
                at = statement[at..].find('\n').map_or(bytes.len(), |end| at + end + 1);
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = statement[at + 2..].find("*/").map_or(bytes.len(), |end| at + 2 + end + 2);
            }
            b';' => return !first_keyword(&statement[at + 1..]).is_empty() || has_several_statements(&statement[at + 1..]),
            _ => at += 1,
        }
    }
    false
}

/// Just past the `quote` that closes a quoted part starting at `from`; a doubled quote
/// stands for itself.
fn closing(bytes: &[u8], mut from: usize, quote: u8) -> usize {
    while from < bytes.len() {
        if bytes[from] == quote {
            if bytes.get(from + 1) == Some(&quote) {
                from += 2;
                continue;
            }
            return from + 1;
        }
        from += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_a_second_statement_outside_quotes_and_comments() {
        assert!(!has_several_statements("SELECT 1"));
        assert!(!has_several_statements("SELECT 1;  -- done\n"));
        assert!(!has_several_statements("SELECT 'a;b', \"c;d\", [e;f] FROM t /* ; */"));
        assert!(!has_several_statements("SELECT 'it''s; fine'"));
        assert!(has_several_statements("UPDATE t SET a = 1; COMMIT"));
        assert!(has_several_statements("SELECT 1;;SELECT 2"));
        assert!(has_several_statements("SELECT ';' ; -- x\n DELETE FROM t"));
    }

    use super::*;

    #[test]
    fn skips_comments_and_whitespace() {
        assert_eq!(first_keyword("  -- note\n /* x */ select 1"), "SELECT");
        assert_eq!(first_keyword("INSERT INTO t VALUES (1)"), "INSERT");
        assert_eq!(first_keyword("-- only a comment"), "");
        assert_eq!(first_keyword("/* a /* nested */ comment */ SET x = 1"), "SET");
        assert_eq!(first_keyword("/* unterminated /* */ SELECT 1"), "");
    }

    #[test]
    fn reads_that_hold_transaction_state_stay_in_the_transaction() {
        assert!(reads_alone("SELECT * FROM stations WHERE id = $1"));
        assert!(reads_alone("WITH x AS (SELECT 1) SELECT * FROM x"));
        assert!(!reads_alone("SELECT * FROM stations FOR UPDATE"));
        assert!(!reads_alone("select pg_advisory_xact_lock(42)"));
        assert!(!reads_alone("SELECT pg_try_advisory_xact_lock_shared($1)"));
        assert!(!reads_alone("SELECT set_config('app.user', $1, true)"));
        assert!(!reads_alone("SELECT txid_current()"));
        assert!(!reads_alone("UPDATE stations SET name = $1"));
    }

    #[test]
    fn guesses_reads() {
        assert!(looks_read_only("SELECT * FROM stations"));
        assert!(looks_read_only("with x as (select 1) select * from x"));
        assert!(!looks_read_only("UPDATE stations SET name = $1"));
        assert!(!looks_read_only("DELETE FROM stations"));
    }
}
