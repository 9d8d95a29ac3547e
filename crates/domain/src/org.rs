//! The organization: units (单位) in a tree, their leadership teams (领导班子), cadres (干部)
//! and their appointment history (任职经历).

use crate::code::Code;
use crate::labeled_enum;
use serde::{Deserialize, Serialize};
use time::Date;

labeled_enum! {
    /// Level of a unit in the administrative tree, or a department (部门) attached to one.
    pub enum UnitKind: "unit kind" {
        /// 省
        Province = ("province", "省", "Province"),
        /// 市
        City = ("city", "市", "City"),
        /// 县(区)
        County = ("county", "县", "County"),
        /// 乡镇(街道)
        Township = ("township", "乡镇", "Township"),
        /// 部门: a department under a level of government.
        Department = ("department", "部门", "Department"),
    }
}

impl UnitKind {
    /// Whether a unit of this kind may sit directly under a unit of kind `parent`.
    ///
    /// Levels descend one step at a time (province → city → county → township); a department
    /// may hang under any level or under another department (a 内设机构).
    pub fn may_have_parent(self, parent: UnitKind) -> bool {
        use UnitKind::*;
        matches!(
            (parent, self),
            (Province, City) | (City, County) | (County, Township) | (_, Department)
        )
    }
}

/// A unit (单位): a level of government or a department, keyed by its code.
///
/// Every unit has a leadership team (领导班子): its cadres marked as leaders. The team is
/// derived from the cadres, never stored twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Unit code, e.g. an administrative division code such as `340102`.
    pub code: Code,
    /// Full name, e.g. 瑶海区.
    pub name: String,
    /// Level or department.
    pub kind: UnitKind,
    /// Code of the parent unit; `None` for a root.
    pub parent: Option<Code>,
}

/// The parents of a set of units, to walk a unit's ancestry without asking the store again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitTree {
    parents: std::collections::HashMap<Code, Option<Code>>,
}

impl UnitTree {
    /// Deepest ancestry walked: a stored cycle (never made by kaohe) ends the walk there.
    const MAX_DEPTH: usize = 64;

    /// The tree of `units`.
    pub fn new<'a>(units: impl IntoIterator<Item = &'a Unit>) -> Self {
        Self {
            parents: units
                .into_iter()
                .map(|u| (u.code.clone(), u.parent.clone()))
                .collect(),
        }
    }

    /// The ancestors of `unit`, parent first, up to its root; a unit not in the tree has none.
    pub fn ancestors(&self, unit: &Code) -> Vec<Code> {
        let mut out: Vec<Code> = Vec::new();
        let mut next = self.parents.get(unit).and_then(Option::as_ref);
        while let Some(p) = next {
            if out.contains(p) || out.len() >= Self::MAX_DEPTH {
                break;
            }
            out.push(p.clone());
            next = self.parents.get(p).and_then(Option::as_ref);
        }
        out
    }
}

labeled_enum! {
    /// Gender as recorded in the cadre file (干部档案).
    pub enum Gender: "gender" {
        /// 男
        Male = ("male", "男", "Male"),
        /// 女
        Female = ("female", "女", "Female"),
    }
}

labeled_enum! {
    /// Whether a cadre is serving.
    pub enum CadreStatus: "cadre status" {
        /// 在职
        Active = ("active", "在职", "Active"),
        /// 退休
        Retired = ("retired", "退休", "Retired"),
        /// 调出
        TransferredOut = ("transferred_out", "调出", "Transferred out"),
        /// 辞退/开除 and other departures
        Left = ("left", "离职", "Left"),
    }
}

labeled_enum! {
    /// Post and rank level (职务职级) under the civil service law: leading posts (领导职务) and
    /// rank grades (职级), highest first.
    pub enum RankLevel: "rank level" {
        /// 省部级正职
        ProvincialPrincipal = ("provincial_principal", "省部级正职", "Provincial principal"),
        /// 省部级副职
        ProvincialDeputy = ("provincial_deputy", "省部级副职", "Provincial deputy"),
        /// 厅局级正职
        BureauPrincipal = ("bureau_principal", "厅局级正职", "Bureau principal"),
        /// 厅局级副职
        BureauDeputy = ("bureau_deputy", "厅局级副职", "Bureau deputy"),
        /// 一级巡视员
        Inspector1 = ("inspector_1", "一级巡视员", "Inspector, 1st class"),
        /// 二级巡视员
        Inspector2 = ("inspector_2", "二级巡视员", "Inspector, 2nd class"),
        /// 县处级正职
        DivisionPrincipal = ("division_principal", "县处级正职", "Division principal"),
        /// 县处级副职
        DivisionDeputy = ("division_deputy", "县处级副职", "Division deputy"),
        /// 一级调研员
        Researcher1 = ("researcher_1", "一级调研员", "Researcher, 1st class"),
        /// 二级调研员
        Researcher2 = ("researcher_2", "二级调研员", "Researcher, 2nd class"),
        /// 三级调研员
        Researcher3 = ("researcher_3", "三级调研员", "Researcher, 3rd class"),
        /// 四级调研员
        Researcher4 = ("researcher_4", "四级调研员", "Researcher, 4th class"),
        /// 乡科级正职
        SectionPrincipal = ("section_principal", "乡科级正职", "Section principal"),
        /// 乡科级副职
        SectionDeputy = ("section_deputy", "乡科级副职", "Section deputy"),
        /// 一级主任科员
        PrincipalStaff1 = ("principal_staff_1", "一级主任科员", "Principal staff, 1st class"),
        /// 二级主任科员
        PrincipalStaff2 = ("principal_staff_2", "二级主任科员", "Principal staff, 2nd class"),
        /// 三级主任科员
        PrincipalStaff3 = ("principal_staff_3", "三级主任科员", "Principal staff, 3rd class"),
        /// 四级主任科员
        PrincipalStaff4 = ("principal_staff_4", "四级主任科员", "Principal staff, 4th class"),
        /// 一级科员
        Staff1 = ("staff_1", "一级科员", "Staff, 1st class"),
        /// 二级科员
        Staff2 = ("staff_2", "二级科员", "Staff, 2nd class"),
    }
}

impl RankLevel {
    /// Whether this is a leading post (领导职务) rather than a rank grade (职级).
    pub fn is_leading_post(self) -> bool {
        use RankLevel::*;
        matches!(
            self,
            ProvincialPrincipal
                | ProvincialDeputy
                | BureauPrincipal
                | BureauDeputy
                | DivisionPrincipal
                | DivisionDeputy
                | SectionPrincipal
                | SectionDeputy
        )
    }
}

/// A cadre (干部) as held in the organization department's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cadre {
    /// Cadre id from the source system.
    pub id: Code,
    /// Full name.
    pub name: String,
    /// Gender.
    pub gender: Gender,
    /// Ethnicity (民族), e.g. 汉族.
    pub ethnicity: String,
    /// Date of birth.
    pub birth_date: Date,
    /// Code of the unit the cadre serves in.
    pub unit: Code,
    /// Post title (职务), e.g. 副县长.
    pub post: String,
    /// Post and rank level (职务职级).
    pub rank: RankLevel,
    /// Whether the cadre is a member of the unit's leadership team (领导班子成员).
    pub is_leader: bool,
    /// Serving or not.
    pub status: CadreStatus,
}

/// One entry of a cadre's appointment history (任职经历).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    /// The cadre.
    pub cadre: Code,
    /// Unit served in.
    pub unit: Code,
    /// Post title.
    pub post: String,
    /// Rank level held in the post.
    pub rank: RankLevel,
    /// First day in the post.
    pub start_date: Date,
    /// Last day in the post; `None` while current.
    pub end_date: Option<Date>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::Labeled;

    #[test]
    fn parses_codes_and_both_languages() {
        assert_eq!(UnitKind::parse_label("乡镇"), Ok(UnitKind::Township));
        assert_eq!(UnitKind::parse_label("COUNTY"), Ok(UnitKind::County));
        assert_eq!(
            RankLevel::parse_label("一级主任科员"),
            Ok(RankLevel::PrincipalStaff1)
        );
        assert_eq!(Gender::parse_label("Female"), Ok(Gender::Female));
        let err = Gender::parse_label("x").expect_err("not a gender");
        assert!(err.to_string().contains("男/male"), "{err}");
    }

    #[test]
    fn tree_rules() {
        assert!(UnitKind::City.may_have_parent(UnitKind::Province));
        assert!(!UnitKind::Township.may_have_parent(UnitKind::Province));
        assert!(UnitKind::Department.may_have_parent(UnitKind::Department));
        assert!(!UnitKind::Province.may_have_parent(UnitKind::City));
    }

    #[test]
    fn a_units_ancestry_runs_to_its_root_and_stops_at_a_cycle() {
        let code = |s: &str| Code::parse(s).expect("valid");
        let unit = |c: &str, parent: Option<&str>| Unit {
            code: code(c),
            name: c.into(),
            kind: UnitKind::Department,
            parent: parent.map(code),
        };
        let tree = UnitTree::new(&[
            unit("A", None),
            unit("B", Some("A")),
            unit("C", Some("B")),
            unit("X", Some("Y")),
            unit("Y", Some("X")),
        ]);
        assert_eq!(tree.ancestors(&code("C")), vec![code("B"), code("A")]);
        assert!(tree.ancestors(&code("A")).is_empty());
        assert!(tree.ancestors(&code("Z")).is_empty());
        assert_eq!(tree.ancestors(&code("X")), vec![code("Y"), code("X")]);
    }
}
