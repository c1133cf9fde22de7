//! The choice among a best-of task's candidates, pure: what wavecrew measured of each
//! ([`Evidence`]) in, the passing candidates best first ([`rank`]) and why the first beat the
//! second ([`why`]) out. The order is the issue's: Verify passes, then the fewest lines changed
//! outside the task's Files, then the smallest diff, then the fewest tokens, then the lowest
//! candidate number, so that two runs of the same evidence always choose the same winner.

use std::cmp::Ordering;

/// What wavecrew measured of one candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// Its number, from 1.
    pub candidate: u32,
    /// Whether its agent finished and every Verify command passed.
    pub passed: bool,
    /// Lines it adds or removes in files the task's Files do not name.
    pub outside_lines: u64,
    /// Lines it adds or removes in all.
    pub diff_lines: u64,
    /// Tokens its agent read and wrote.
    pub tokens: u64,
}

impl Evidence {
    /// The order of the choice among passing candidates: smaller is better.
    fn key(&self) -> (u64, u64, u64, u32) {
        (self.outside_lines, self.diff_lines, self.tokens, self.candidate)
    }
}

/// The candidates whose Verify passed, best first: empty when none did.
pub fn rank(candidates: &[Evidence]) -> Vec<&Evidence> {
    let mut passed: Vec<&Evidence> = candidates.iter().filter(|c| c.passed).collect();
    passed.sort_by_key(|c| c.key());
    passed
}

/// Why `winner` was chosen over `next` (the second of the [`rank`], if any), for the journal
/// and the report: the first criterion that tells them apart.
pub fn why(winner: &Evidence, next: Option<&Evidence>, failed: usize) -> String {
    let failed = match failed {
        0 => String::new(),
        1 => "; 1 other candidate failed".to_owned(),
        n => format!("; {n} other candidates failed"),
    };
    let Some(next) = next else {
        return format!("candidate {} is the only one whose Verify passed{failed}", winner.candidate);
    };
    let (w, n) = (winner, next);
    let reason = if w.outside_lines != n.outside_lines {
        format!("fewer lines changed outside the task's Files ({} against {})", w.outside_lines, n.outside_lines)
    } else if w.diff_lines != n.diff_lines {
        format!("a smaller diff ({} lines against {})", w.diff_lines, n.diff_lines)
    } else if w.tokens != n.tokens {
        format!("fewer tokens ({} against {})", w.tokens, n.tokens)
    } else {
        "the same evidence, and the lower number".to_owned()
    };
    debug_assert_eq!(w.key().cmp(&n.key()), Ordering::Less, "why() is told the winner first");
    format!("candidate {} over candidate {}: {reason}{failed}", w.candidate, n.candidate)
}

/// The lines `git diff --numstat` reports (`added<TAB>removed<TAB>path`), as (lines outside
/// the task's Files, lines in all); `in_files` says whether the task's Files name a path. A
/// binary file (`-<TAB>-`) counts as one line: it changed, and its size in lines means nothing.
pub fn measure(numstat: &str, in_files: impl Fn(&str) -> bool) -> (u64, u64) {
    let (mut outside, mut total) = (0, 0);
    for line in numstat.lines() {
        let mut parts = line.splitn(3, '\t');
        let (Some(added), Some(removed), Some(path)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let lines = match (added.parse::<u64>(), removed.parse::<u64>()) {
            (Ok(a), Ok(r)) => a + r,
            _ => 1,
        };
        total += lines;
        if !in_files(path) {
            outside += lines;
        }
    }
    (outside, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn evidence(candidate: u32, passed: bool, outside_lines: u64, diff_lines: u64, tokens: u64) -> Evidence {
        Evidence { candidate, passed, outside_lines, diff_lines, tokens }
    }

    fn winner(candidates: &[Evidence]) -> Option<u32> {
        rank(candidates).first().map(|c| c.candidate)
    }

    #[test]
    fn only_a_candidate_whose_verify_passed_can_win() {
        // Candidate 1 is the smallest in every measure, but its Verify failed.
        let candidates = [evidence(1, false, 0, 1, 10), evidence(2, true, 5, 50, 900), evidence(3, false, 0, 2, 5)];
        assert_eq!(winner(&candidates), Some(2));
        assert_eq!(
            why(rank(&candidates)[0], None, 2),
            "candidate 2 is the only one whose Verify passed; 2 other candidates failed"
        );
        assert_eq!(winner(&[evidence(1, false, 0, 0, 0)]), None);
        assert_eq!(winner(&[]), None);
    }

    #[test]
    fn each_tie_break_decides_only_when_the_ones_before_it_tie() {
        // Lines outside the task's Files first, even against a much smaller diff and fewer tokens.
        let outside = [evidence(1, true, 3, 10, 10), evidence(2, true, 0, 400, 9000)];
        assert_eq!(winner(&outside), Some(2));
        let ranked = rank(&outside);
        assert_eq!(
            why(ranked[0], Some(ranked[1]), 0),
            "candidate 2 over candidate 1: fewer lines changed outside the task's Files (0 against 3)"
        );
        // Then the smaller diff.
        let diff = [evidence(1, true, 0, 40, 10), evidence(2, true, 0, 12, 9000)];
        assert_eq!(winner(&diff), Some(2));
        assert!(why(rank(&diff)[0], Some(rank(&diff)[1]), 0).contains("a smaller diff (12 lines against 40)"));
        // Then the fewer tokens.
        let tokens = [evidence(1, true, 0, 12, 800), evidence(2, true, 0, 12, 300), evidence(3, false, 0, 1, 1)];
        assert_eq!(winner(&tokens), Some(2));
        assert!(
            why(rank(&tokens)[0], Some(rank(&tokens)[1]), 1)
                .ends_with("fewer tokens (300 against 800); 1 other candidate failed")
        );
        // Then the lower number.
        let same = [evidence(3, true, 0, 12, 300), evidence(2, true, 0, 12, 300)];
        assert_eq!(winner(&same), Some(2));
        assert!(why(rank(&same)[0], Some(rank(&same)[1]), 0).contains("the same evidence, and the lower number"));
    }

    #[test]
    fn numstat_lines_are_counted_inside_and_outside_the_tasks_files() {
        let numstat = "3\t1\tsrc/a.rs\n10\t0\tREADME.md\n-\t-\tlogo.png\n\nnot a numstat line\n";
        let (outside, total) = measure(numstat, |path| path.starts_with("src/"));
        assert_eq!((outside, total), (11, 15));
        assert_eq!(measure("", |_| true), (0, 0));
    }

    fn candidates() -> impl Strategy<Value = Vec<Evidence>> {
        // Small ranges, so that ties on every measure are common.
        proptest::collection::vec((any::<bool>(), 0u64..3, 0u64..3, 0u64..3), 0..8).prop_map(|list| {
            list.into_iter()
                .enumerate()
                .map(|(i, (passed, outside, diff, tokens))| {
                    evidence(i as u32 + 1, passed, outside, diff + outside, tokens)
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn the_ranking_is_the_passing_candidates_in_the_issues_order_whatever_their_order(
            candidates in candidates(),
            rotate in 0usize..8,
        ) {
            let ranked: Vec<u32> = rank(&candidates).iter().map(|c| c.candidate).collect();
            // Exactly the passing candidates, each once.
            let mut passing: Vec<u32> = candidates.iter().filter(|c| c.passed).map(|c| c.candidate).collect();
            let mut sorted = ranked.clone();
            sorted.sort_unstable();
            passing.sort_unstable();
            prop_assert_eq!(sorted, passing);
            // Each is no worse than the next by the order: outside, diff, tokens, number.
            for pair in rank(&candidates).windows(2) {
                let (a, b) = (pair[0], pair[1]);
                prop_assert!(
                    (a.outside_lines, a.diff_lines, a.tokens, a.candidate) < (b.outside_lines, b.diff_lines, b.tokens, b.candidate)
                );
            }
            // The order the candidates are listed in changes nothing.
            let mut shuffled = candidates.clone();
            if !shuffled.is_empty() {
                let by = rotate % shuffled.len();
                shuffled.rotate_left(by);
                shuffled.reverse();
            }
            let again: Vec<u32> = rank(&shuffled).iter().map(|c| c.candidate).collect();
            prop_assert_eq!(again, ranked);
        }
    }
}
