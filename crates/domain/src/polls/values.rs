//! Poll results as indicator values of an assessment cycle: an evaluation's per-person counts
//! become the columns a framework names (for example `de_poll` of the `civil_servant_annual`
//! preset), so that a cycle gathers them without a file in between.
//!
//! An item's score on 0–100 is its weighted shares times the points of each grade: the middle
//! of each band of the evaluation form (优秀 90–100, 称职 70–89, 基本称职 60–69, 不称职 0–59),
//! rounded to 5: 95, 80, 65, 30. All 优秀 gives 95, all 不称职 30.

use super::Item;
use super::tally::{Flag, GRADES, PersonResult};

/// Points of 优秀, 称职, 基本称职 and 不称职 in an item's score.
pub const GRADE_POINTS: [f64; GRADES] = [95.0, 80.0, 65.0, 30.0];

/// Number of columns a poll can fill.
pub const COLUMN_COUNT: usize = 10;

/// The indicator ids a poll fills, in the order of [`cells`]: the score of each item
/// (`overall_poll`, `de_poll`, `neng_poll`, `qin_poll`, `ji_poll`, `lian_poll`), then from the
/// overall grade 优秀率 and 称职以上率 in percent, then the two review flags as 1 or 0.
pub const COLUMNS: [&str; COLUMN_COUNT] = [
    "overall_poll",
    "de_poll",
    "neng_poll",
    "qin_poll",
    "ji_poll",
    "lian_poll",
    "poll_excellent_rate",
    "poll_competent_rate",
    "poll_adjustment_review",
    "poll_admonition_review",
];

/// The score (0–100) of weighted shares of the four grades: [`GRADE_POINTS`] weighted by the
/// shares. Shares summing to 0 (nobody voted on the item) give `None`.
pub fn score(shares: &[f64; GRADES]) -> Option<f64> {
    let total: f64 = shares.iter().sum();
    if total <= 0.0 || !total.is_finite() {
        return None;
    }
    Some(
        shares
            .iter()
            .zip(GRADE_POINTS)
            .map(|(s, p)| s * p)
            .sum::<f64>()
            / total,
    )
}

/// The column of an item's score.
pub fn item_column(item: Item) -> &'static str {
    COLUMNS[index(item)]
}

/// The place of an item's score in [`COLUMNS`].
fn index(item: Item) -> usize {
    match item {
        Item::Overall => 0,
        Item::De => 1,
        Item::Neng => 2,
        Item::Qin => 3,
        Item::Ji => 4,
        Item::Lian => 5,
    }
}

/// One person's values in the order of [`COLUMNS`] (`None`: an item the poll did not ask).
pub fn cells(person: &PersonResult) -> [Option<f64>; COLUMN_COUNT] {
    let mut row = [None; COLUMN_COUNT];
    for r in &person.items {
        row[index(r.item)] = score(&r.shares);
        if r.item == Item::Overall && r.votes.iter().sum::<u32>() > 0 {
            row[6] = Some(r.excellent_rate * 100.0);
            row[7] = Some(r.competent_rate * 100.0);
        }
    }
    let flag = |f: Flag| Some(if person.flags.contains(&f) { 1.0 } else { 0.0 });
    row[8] = flag(Flag::AdjustmentReview);
    row[9] = flag(Flag::AdmonitionReview);
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;
    use crate::labels::Labeled;
    use crate::polls::tally::ItemResult;
    use proptest::prelude::*;

    fn item(item: Item, votes: [u32; GRADES]) -> ItemResult {
        let n: u32 = votes.iter().sum();
        let shares = votes.map(|v| f64::from(v) / f64::from(n.max(1)));
        ItemResult {
            item,
            by_group: vec![votes],
            votes,
            shares,
            excellent_rate: shares[0],
            competent_rate: shares[0] + shares[1],
        }
    }

    #[test]
    fn every_item_has_its_column_and_the_preset_names_match() {
        assert_eq!(Item::ALL.len(), 6);
        for item in Item::ALL {
            assert_eq!(item_column(*item), format!("{}_poll", item.code()));
        }
    }

    #[test]
    fn a_person_becomes_scores_rates_and_flags() {
        let person = PersonResult {
            person: Code::parse("C001").expect("code"),
            items: vec![
                item(Item::Overall, [6, 2, 1, 1]),
                item(Item::De, [10, 0, 0, 0]),
                item(Item::Lian, [0, 0, 0, 10]),
            ],
            flags: vec![Flag::AdmonitionReview],
        };
        let row = cells(&person);
        // 0.6·95 + 0.2·80 + 0.1·65 + 0.1·30 = 57 + 16 + 6.5 + 3 = 82.5
        assert!((row[0].expect("overall") - 82.5).abs() < 1e-9);
        assert_eq!(row[1], Some(95.0));
        assert_eq!(row[2], None, "neng was not asked");
        assert_eq!(row[5], Some(30.0));
        assert!((row[6].expect("excellent") - 60.0).abs() < 1e-9);
        assert!((row[7].expect("competent") - 80.0).abs() < 1e-9);
        assert_eq!(row[8], Some(0.0));
        assert_eq!(row[9], Some(1.0));
    }

    #[test]
    fn no_votes_no_score() {
        assert_eq!(score(&[0.0; GRADES]), None);
    }

    proptest! {
        #[test]
        fn a_score_lies_between_the_points_and_rises_with_better_votes(
            votes in proptest::array::uniform4(0u32..50),
            from in 1usize..GRADES,
        ) {
            prop_assume!(votes.iter().sum::<u32>() > 0);
            let shares = votes.map(f64::from);
            let s = score(&shares).expect("votes");
            prop_assert!((GRADE_POINTS[3] - 1e-9..=GRADE_POINTS[0] + 1e-9).contains(&s));
            // One vote moved up a grade never lowers the score.
            if votes[from] > 0 {
                let mut better = shares;
                better[from] -= 1.0;
                better[from - 1] += 1.0;
                prop_assert!(score(&better).expect("votes") >= s - 1e-9);
            }
        }
    }
}
