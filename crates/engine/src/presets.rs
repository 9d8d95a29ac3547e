//! Preset frameworks shipped in the binary, each a documented TOML file (see
//! docs/frameworks.md for their contents and sources).

use crate::error::FrameworkError;
use crate::framework::Framework;

/// A framework file shipped with kaohe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// Name used on the command line, e.g. `civil_servant_annual`.
    pub name: &'static str,
    /// Title in Chinese.
    pub title_zh: &'static str,
    /// Title in English.
    pub title_en: &'static str,
    /// The TOML source.
    pub source: &'static str,
}

impl Preset {
    /// Parses the preset.
    pub fn framework(&self) -> Result<Framework, FrameworkError> {
        Framework::from_toml_str(self.source)
    }
}

static PRESETS: [Preset; 4] = [
    Preset {
        name: "civil_servant_annual",
        title_zh: "公务员年度考核（德能勤绩廉）",
        title_en: "Civil servant annual assessment (德、能、勤、绩、廉)",
        source: include_str!("../presets/civil_servant_annual.toml"),
    },
    Preset {
        name: "political_quality_review",
        title_zh: "领导干部政治素质考察",
        title_en: "Political quality review of leading cadres",
        source: include_str!("../presets/political_quality_review.toml"),
    },
    Preset {
        name: "county_team_hqd",
        title_zh: "县级领导班子推动高质量发展实绩考核",
        title_en: "County leadership team: high-quality development performance",
        source: include_str!("../presets/county_team_hqd.toml"),
    },
    Preset {
        name: "routine_quarterly",
        title_zh: "公务员平时考核（季度）",
        title_en: "Civil servant routine assessment (quarterly)",
        source: include_str!("../presets/routine_quarterly.toml"),
    },
];

/// All presets.
pub fn all() -> &'static [Preset] {
    &PRESETS
}

/// The preset of a name.
pub fn get(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_and_weights_sum_to_one() {
        for p in all() {
            let fw = p
                .framework()
                .unwrap_or_else(|e| panic!("preset {}: {e}", p.name));
            assert_eq!(fw.id(), p.name);
            let total: f64 = fw.effective_weights().iter().map(|w| w.1).sum();
            assert!((total - 1.0).abs() < 1e-12, "{}: {total}", p.name);
        }
        assert!(get("county_team_hqd").is_some());
        assert!(get("nope").is_none());
        let pq = get("political_quality_review")
            .and_then(|p| p.framework().ok())
            .expect("political quality review");
        let filled = pq.indicators().iter().filter(|i| i.records.is_some());
        assert_eq!(filled.count(), pq.indicators().len());
    }
}
