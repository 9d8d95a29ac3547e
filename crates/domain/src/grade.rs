//! Grade scales (等次). Each scale has four grades, best first.

use crate::labeled_enum;
use crate::labels::Labeled;

labeled_enum! {
    /// Individual annual assessment grades (年度考核等次), civil service law art. 38.
    pub enum AnnualGrade: "annual grade" {
        /// 优秀
        Excellent = ("excellent", "优秀", "Excellent"),
        /// 称职
        Competent = ("competent", "称职", "Competent"),
        /// 基本称职
        BasicallyCompetent = ("basically_competent", "基本称职", "Basically competent"),
        /// 不称职
        Incompetent = ("incompetent", "不称职", "Incompetent"),
    }
}

labeled_enum! {
    /// Leadership-team grades (领导班子等次).
    pub enum TeamGrade: "team grade" {
        /// 优秀
        Excellent = ("excellent", "优秀", "Excellent"),
        /// 良好
        Good = ("good", "良好", "Good"),
        /// 一般
        Fair = ("fair", "一般", "Fair"),
        /// 较差
        Poor = ("poor", "较差", "Poor"),
    }
}

labeled_enum! {
    /// Routine (quarterly) assessment grades (平时考核等次).
    pub enum RoutineGrade: "routine grade" {
        /// 好
        Good = ("good", "好", "Good"),
        /// 较好
        FairlyGood = ("fairly_good", "较好", "Fairly good"),
        /// 一般
        Fair = ("fair", "一般", "Fair"),
        /// 较差
        Poor = ("poor", "较差", "Poor"),
    }
}

labeled_enum! {
    /// Which grade scale an assessment uses.
    pub enum GradeScale: "grade scale" {
        /// 优秀/称职/基本称职/不称职
        Annual = ("annual", "年度考核", "Annual"),
        /// 好/较好/一般/较差
        Routine = ("routine", "平时考核", "Routine"),
        /// 优秀/良好/一般/较差
        Team = ("team", "领导班子", "Leadership team"),
    }
}

impl GradeScale {
    /// Number of grades on every scale.
    pub const LEVELS: usize = 4;

    /// The `(code, Chinese, English)` of the grade at `level` (0 = best, 3 = worst), or `None`
    /// past the end of the scale.
    pub fn grade(self, level: usize) -> Option<(&'static str, &'static str, &'static str)> {
        fn pick<T: Labeled>(level: usize) -> Option<(&'static str, &'static str, &'static str)> {
            T::ALL.get(level).map(|g| (g.code(), g.zh(), g.en()))
        }
        match self {
            GradeScale::Annual => pick::<AnnualGrade>(level),
            GradeScale::Routine => pick::<RoutineGrade>(level),
            GradeScale::Team => pick::<TeamGrade>(level),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_have_four_levels_best_first() {
        for scale in GradeScale::ALL {
            for level in 0..GradeScale::LEVELS {
                assert!(scale.grade(level).is_some());
            }
            assert!(scale.grade(GradeScale::LEVELS).is_none());
        }
        assert_eq!(GradeScale::Annual.grade(0).map(|g| g.1), Some("优秀"));
        assert_eq!(GradeScale::Routine.grade(3).map(|g| g.1), Some("较差"));
        assert_eq!(GradeScale::Team.grade(1).map(|g| g.1), Some("良好"));
    }
}
