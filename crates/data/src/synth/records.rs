//! Seeded work records (纪实) for the demo, load tests and benchmarks: facts spread over a
//! period, of every source, mostly positive, some negative, most verified by another
//! assessor, some rejected with a reason, the most recent awaiting review.

use kaohe_domain::Code;
use kaohe_domain::records::{RecordKind, RecordSource, Verdict};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Date, Duration};

/// An indicator records may speak to, as its framework allows.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordTarget {
    /// Framework id.
    pub framework_id: String,
    /// Framework version.
    pub framework_version: String,
    /// Indicator id.
    pub indicator: String,
    /// Kinds it takes.
    pub kinds: Vec<RecordKind>,
    /// Smallest and largest points of a record.
    pub points: [f64; 2],
    /// Relative frequency of records on it.
    pub weight: f64,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSpec {
    /// Seed of the random stream.
    pub seed: u64,
    /// Records per official over the period, on average.
    pub per_cadre: usize,
    /// First day of the facts.
    pub from: Date,
    /// Last day of the facts.
    pub to: Date,
    /// Facts in the last this many days await review.
    pub pending_days: i64,
}

/// A generated record with its review, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthRecord {
    /// The official.
    pub cadre: Code,
    /// Index into the targets.
    pub target: usize,
    /// Date of the fact.
    pub date: Date,
    /// Kind.
    pub kind: RecordKind,
    /// Points.
    pub points: f64,
    /// Source.
    pub source: RecordSource,
    /// Description.
    pub description: String,
    /// Review: verdict and reason (`None`: awaiting review).
    pub review: Option<(Verdict, String)>,
}

const PLACES: [&str; 10] = [
    "东岗村",
    "柳溪村",
    "新民社区",
    "城关社区",
    "石桥村",
    "红星村",
    "工业园区",
    "河湾村",
    "茶山村",
    "南门社区",
];
const MATTERS: [&str; 10] = [
    "高标准农田建设",
    "老旧小区改造",
    "防汛备汛",
    "人居环境整治",
    "企业用工保障",
    "安全生产检查",
    "乡村振兴产业项目",
    "信访积案化解",
    "民生实事项目",
    "营商环境优化",
];

fn positive(source: RecordSource, place: &str, matter: &str) -> String {
    match source {
        RecordSource::FieldVisit => {
            format!("赴{place}现场查看{matter}进展，协调解决群众反映的具体问题，现场推进有力")
        }
        RecordSource::ConcreteCase => {
            format!("牵头负责{matter}，按期完成阶段任务，{place}群众受益明显")
        }
        RecordSource::PublicOpinion => {
            format!("{place}群众反映其在{matter}中办事热情、解释耐心，收到表扬信一封")
        }
        RecordSource::Superior => {
            format!("分管领导评价：在{matter}工作中主动担当，统筹协调能力强")
        }
        RecordSource::Attendance => "本月全勤，主动参加节假日值班值守".to_owned(),
        RecordSource::Other => format!("参加{matter}专题培训并作交流发言"),
    }
}

fn negative(source: RecordSource, place: &str, matter: &str) -> String {
    match source {
        RecordSource::FieldVisit => {
            format!("现场检查发现{place}{matter}台账不实，整改推进迟缓")
        }
        RecordSource::ConcreteCase => format!("{matter}任务未按时限完成，被通报提醒"),
        RecordSource::PublicOpinion => {
            format!("{place}群众反映其办事推诿，经核查情况属实")
        }
        RecordSource::Superior => format!("上级督查指出其在{matter}中工作作风不够扎实"),
        RecordSource::Attendance => "无故迟到早退两次，考勤通报".to_owned(),
        RecordSource::Other => format!("{matter}会议无故缺席一次"),
    }
}

const REJECTIONS: [&str; 4] = [
    "佐证材料不足，无法核实",
    "与已登记纪实重复",
    "事实发生时间不在本人任职期间",
    "经核查与实际情况不符",
];

/// Generates records for `cadres` over the spec's period on `targets`. Deterministic for a
/// spec, cadres and targets.
pub fn generate_records(
    spec: &RecordSpec,
    cadres: &[Code],
    targets: &[RecordTarget],
) -> Vec<SynthRecord> {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let days = (spec.to - spec.from).whole_days().max(0);
    let total_weight: f64 = targets.iter().map(|t| t.weight.max(0.0)).sum();
    let mut out = Vec::with_capacity(cadres.len() * spec.per_cadre);
    if targets.is_empty() || total_weight <= 0.0 {
        return out;
    }
    let pending_from = spec.to - Duration::days(spec.pending_days);
    for cadre in cadres {
        // Between half and one and a half times the mean.
        let n = rng.random_range(spec.per_cadre / 2..=spec.per_cadre * 3 / 2);
        for _ in 0..n {
            let mut pick = rng.random_range(0.0..total_weight);
            let mut target = 0;
            for (k, t) in targets.iter().enumerate() {
                pick -= t.weight.max(0.0);
                if pick < 0.0 {
                    target = k;
                    break;
                }
            }
            let t = &targets[target];
            let kind = match t.kinds.as_slice() {
                [only] => *only,
                _ if rng.random_bool(0.12) => RecordKind::Negative,
                _ => RecordKind::Positive,
            };
            let source = if t.indicator.contains("qin") {
                RecordSource::Attendance
            } else {
                match rng.random_range(0..20) {
                    0..=6 => RecordSource::FieldVisit,
                    7..=11 => RecordSource::ConcreteCase,
                    12..=15 => RecordSource::PublicOpinion,
                    16..=17 => RecordSource::Superior,
                    18 => RecordSource::Attendance,
                    _ => RecordSource::Other,
                }
            };
            let place = PLACES[rng.random_range(0..PLACES.len())];
            let matter = MATTERS[rng.random_range(0..MATTERS.len())];
            let description = match kind {
                RecordKind::Positive => positive(source, place, matter),
                RecordKind::Negative => negative(source, place, matter),
            };
            let [lo, hi] = t.points;
            // Points on half steps within the range.
            let steps = ((hi - lo) * 2.0).floor().max(0.0) as u32;
            let points = lo + f64::from(rng.random_range(0..=steps.min(6))) / 2.0;
            let date = spec.from + Duration::days(rng.random_range(0..=days));
            let review = if date > pending_from {
                None
            } else if rng.random_bool(0.06) {
                Some((
                    Verdict::Rejected,
                    REJECTIONS[rng.random_range(0..REJECTIONS.len())].to_owned(),
                ))
            } else {
                Some((Verdict::Verified, String::new()))
            };
            out.push(SynthRecord {
                cadre: cadre.clone(),
                target,
                date,
                kind,
                points,
                source,
                description,
                review,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use kaohe_domain::Labeled;
    use time::macros::date;

    fn targets() -> Vec<RecordTarget> {
        let t = |id: &str, kinds: Vec<RecordKind>, points: [f64; 2]| RecordTarget {
            framework_id: "f".into(),
            framework_version: "1".into(),
            indicator: id.into(),
            kinds,
            points,
            weight: 1.0,
        };
        vec![
            t(
                "work",
                vec![RecordKind::Positive, RecordKind::Negative],
                [0.5, 10.0],
            ),
            t("findings", vec![RecordKind::Negative], [1.0, 3.0]),
            t(
                "routine_qin",
                vec![RecordKind::Positive, RecordKind::Negative],
                [0.5, 5.0],
            ),
        ]
    }

    #[test]
    fn records_fit_their_targets_and_cover_every_source() {
        let spec = RecordSpec {
            seed: 7,
            per_cadre: 20,
            from: date!(2026 - 01 - 01),
            to: date!(2026 - 12 - 31),
            pending_days: 20,
        };
        let cadres: Vec<Code> = (0..200)
            .map(|i| Code::parse(&format!("C{i:04}")).unwrap())
            .collect();
        let ts = targets();
        let got = generate_records(&spec, &cadres, &ts);
        assert_eq!(got, generate_records(&spec, &cadres, &ts), "deterministic");
        let n = got.len() as f64 / cadres.len() as f64;
        assert!((15.0..=25.0).contains(&n), "{n} a cadre");
        for r in &got {
            let t = &ts[r.target];
            assert!(t.kinds.contains(&r.kind));
            assert!(
                r.points >= t.points[0] && r.points <= t.points[1],
                "{}",
                r.points
            );
            assert!(r.date >= spec.from && r.date <= spec.to);
            if r.review.is_none() {
                assert!(r.date > spec.to - Duration::days(20));
            }
            assert!(!r.description.is_empty());
        }
        for source in RecordSource::ALL {
            assert!(got.iter().any(|r| r.source == *source), "{}", source.code());
        }
        let rejected = got
            .iter()
            .filter(|r| matches!(r.review, Some((Verdict::Rejected, _))))
            .count();
        assert!(rejected > 0 && rejected < got.len() / 10, "{rejected}");
        assert!(got.iter().any(|r| r.review.is_none()));
        assert!(got.iter().any(|r| r.kind == RecordKind::Negative));
    }
}
