//! Small facts about SQL text that the backends need before running it.

/// The first keyword of a statement, skipping whitespace and comments, upper-cased.
pub(crate) fn first_keyword(statement: &str) -> String {
    let mut rest = statement;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, tail)| tail);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, tail)| tail);
        } else {
            break;
        }
    }
    rest.chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>().to_ascii_uppercase()
}

/// Whether a statement most likely only reads. A wrong guess costs a retry, never correctness:
/// the backend upgrades to a write transaction when a "read" turns out to write.
pub(crate) fn looks_read_only(statement: &str) -> bool {
    matches!(first_keyword(statement).as_str(), "SELECT" | "WITH" | "VALUES")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_comments_and_whitespace() {
        assert_eq!(first_keyword("  -- note\n /* x */ select 1"), "SELECT");
        assert_eq!(first_keyword("INSERT INTO t VALUES (1)"), "INSERT");
        assert_eq!(first_keyword("-- only a comment"), "");
    }

    #[test]
    fn guesses_reads() {
        assert!(looks_read_only("SELECT * FROM stations"));
        assert!(looks_read_only("with x as (select 1) select * from x"));
        assert!(!looks_read_only("UPDATE stations SET name = $1"));
        assert!(!looks_read_only("DELETE FROM stations"));
    }
}
