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

/// Whether a statement leaves something a restarted transaction would lose: changed
/// data, or row locks (`SELECT ... FOR UPDATE`).
pub(crate) fn keeps_state(statement: &str) -> bool {
    let upper = statement.to_ascii_uppercase();
    !looks_read_only(statement) || [" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE"].iter().any(|l| upper.contains(l))
}

/// Whether a read can run alone, outside the unit of work's transaction, and give the same
/// result: it takes no row lock and no lock or setting scoped to the transaction. Under READ
/// COMMITTED each statement sees the data committed when it starts, in a transaction or not.
/// A statement that writes after all is refused by the read-only session and runs again
/// inside the transaction.
pub(crate) fn reads_alone(statement: &str) -> bool {
    const TRANSACTION_SCOPED: [&str; 5] =
        ["PG_ADVISORY_XACT_LOCK", "PG_TRY_ADVISORY_XACT_LOCK", "SET_CONFIG", "TXID_CURRENT", "PG_CURRENT_XACT_ID"];
    let upper = statement.to_ascii_uppercase();
    !keeps_state(statement) && !TRANSACTION_SCOPED.iter().any(|name| upper.contains(name))
}

/// Whether a statement changes the session beyond its transaction, so the connection
/// must not be reused as it is.
pub(crate) fn changes_session(statement: &str) -> bool {
    match first_keyword(statement).as_str() {
        "SET" => !matches!(second_keyword(statement).as_str(), "LOCAL" | "CONSTRAINTS" | "TRANSACTION"),
        "RESET" | "PREPARE" | "DEALLOCATE" | "LISTEN" | "UNLISTEN" | "DECLARE" | "DISCARD" | "LOAD" => true,
        "CREATE" => matches!(second_keyword(statement).as_str(), "TEMP" | "TEMPORARY" | "LOCAL" | "GLOBAL"),
        _ => false,
    }
}

fn second_keyword(statement: &str) -> String {
    let first = first_keyword(statement);
    let upper = statement.to_ascii_uppercase();
    let after = upper.find(&first).map_or("", |at| &upper[at + first.len()..]);
    first_keyword(after)
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
    fn knows_what_a_restart_would_lose() {
        assert!(!keeps_state("SELECT * FROM t"));
        assert!(keeps_state("select * from t where id = $1 for update"));
        assert!(keeps_state("INSERT INTO t VALUES (1)"));
    }

    #[test]
    fn knows_what_outlives_the_transaction() {
        assert!(changes_session("SET search_path = x"));
        assert!(changes_session("set role postgres"));
        assert!(!changes_session("SET LOCAL statement_timeout = 5"));
        assert!(changes_session("RESET ROLE"));
        assert!(changes_session("CREATE TEMP TABLE x (a int)"));
        assert!(!changes_session("CREATE TABLE x (a int)"));
        assert!(!changes_session("SELECT 1"));
    }

    #[test]
    fn reads_that_hold_transaction_state_stay_in_the_transaction() {
        assert!(reads_alone("SELECT * FROM stations WHERE id = $1"));
        assert!(reads_alone("WITH x AS (SELECT 1) SELECT * FROM x"));
        assert!(!reads_alone("SELECT * FROM stations FOR UPDATE"));
        assert!(!reads_alone("select pg_advisory_xact_lock(42)"));
        assert!(!reads_alone("SELECT pg_try_advisory_xact_lock($1)"));
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
