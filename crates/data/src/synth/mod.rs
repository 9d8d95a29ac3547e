//! Seeded synthetic data: a unit tree, cadres, appointment history, sanctions and the holiday
//! calendar, realistic enough for demos, load tests and the scoring engine's tests.
//!
//! The same [`GenSpec`] always gives the same [`Dataset`]: the generator draws from one
//! ChaCha8 stream seeded with [`GenSpec::seed`] and never iterates a hash map.
//!
//! Shape: up to 1,500 cadres form one county (县) with its townships (乡镇/街道) and up to 25
//! county departments; up to 20,000 a city (市) of districts and counties with 30 city
//! departments; beyond that provinces (省) of about 14 cities each, with 35 provincial
//! departments. A county holds about 1,000 cadres, and units average 15–40 cadres. Unit codes
//! follow the administrative division codes (`PPCCDD`, townships `PPCCDDTTT`), departments take
//! their level's code and a number (`340102-017`). Names of places and people are invented.

mod holidays;
mod names;
mod ratings;
mod records;
mod values;

pub use holidays::official_calendar;
pub use ratings::{DEFAULT_MAX_CASES, recent_cases};
pub use records::{RecordSpec, RecordTarget, SynthRecord, generate_records};
pub use values::{
    GrowthColumn, LatentColumn, PersonFacts, RECKLESS_SHARE, ValueColumn, ValueDist, ValuesSpec,
    generate_values, people_facts, write_baseline, write_history, write_people, write_values,
};

use crate::error::ExportError;
use crate::export::{
    Phones, write_appointments, write_cadres, write_calendar, write_cases, write_ratings,
    write_sanctions, write_units,
};
use crate::import::RatingRecord;
use crate::table::{Format, HeaderLang, Table};
use kaohe_domain::ratings::ServiceCase;
use kaohe_domain::{
    Appointment, Cadre, CadreStatus, CalendarEntry, Code, Gender, RankLevel, Sanction,
    SanctionKind, Unit, UnitKind,
};
use names::{DEPTS, Dept};
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use time::{Date, Duration, UtcOffset};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenSpec {
    /// Seed of the random stream: the same spec gives the same data.
    pub seed: u64,
    /// Number of cadres. Shapes stay realistic (and unit codes unique) up to about ten
    /// million; a million takes a few seconds and about a gigabyte of memory.
    pub cadres: usize,
    /// The current year: ages, appointment history and sanctions (the last three years) are
    /// counted back from its end; service cases fall in it.
    pub year: i32,
    /// Service cases of the year; by default two per cadre, at most [`DEFAULT_MAX_CASES`].
    pub cases: Option<usize>,
}

impl GenSpec {
    /// Number of service cases to generate.
    pub fn case_count(&self) -> usize {
        self.cases
            .unwrap_or_else(|| (2 * self.cadres).min(DEFAULT_MAX_CASES))
    }
}

impl Default for GenSpec {
    fn default() -> Self {
        Self {
            seed: 1,
            cadres: 500,
            year: 2025,
            cases: None,
        }
    }
}

/// Generated data, each table in import order (parents before children).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dataset {
    /// The unit tree, parents first.
    pub units: Vec<Unit>,
    /// Cadres, by unit.
    pub cadres: Vec<Cadre>,
    /// Appointment history: for each cadre, oldest first, the last one current.
    pub appointments: Vec<Appointment>,
    /// Sanctions of the last three years.
    pub sanctions: Vec<Sanction>,
    /// Official holiday overrides of 2024–2026 ([`official_calendar`]).
    pub calendar: Vec<CalendarEntry>,
    /// Service cases of the year, by case id.
    pub cases: Vec<ServiceCase>,
    /// Ratings of the cases, by time.
    pub ratings: Vec<RatingRecord>,
}

/// Writes the tables into `dir` (created if missing) as `units.csv`, `cadres.csv`, … (or
/// `.xlsx`), and returns the paths in import order. Times of cases and ratings are written at
/// `offset`, the public's phone numbers as `phones` says.
pub fn write_dataset(
    dir: impl AsRef<Path>,
    data: &Dataset,
    lang: HeaderLang,
    format: Format,
    offset: UtcOffset,
    phones: Phones,
) -> Result<Vec<PathBuf>, ExportError> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Io {
        file: dir.to_owned(),
        source,
    })?;
    let path = |t: Table| dir.join(format!("{}.{}", t.file_stem(), format.extension()));
    let paths: Vec<PathBuf> = Table::ALL.iter().map(|t| path(*t)).collect();
    write_units(&paths[0], &data.units, lang)?;
    write_cadres(&paths[1], &data.cadres, lang)?;
    write_appointments(&paths[2], &data.appointments, lang)?;
    write_sanctions(&paths[3], &data.sanctions, lang)?;
    write_calendar(&paths[4], &data.calendar, lang)?;
    write_cases(&paths[5], &data.cases, lang, offset, phones)?;
    write_ratings(&paths[6], &data.ratings, lang, offset, phones)?;
    Ok(paths)
}

/// Generates a dataset. Deterministic for a spec; about a second per million cadres.
pub fn generate(spec: &GenSpec) -> Dataset {
    let mut g = Gen::new(spec);
    g.build_tree();
    g.people();
    g.sanctions();
    let (cases, ratings) = g.cases_and_ratings(spec.case_count());
    Dataset {
        units: g.units,
        cadres: g.cadres,
        appointments: g.appointments,
        sanctions: g.sanctions_out,
        calendar: official_calendar(),
        cases,
        ratings,
    }
}

// ---------------------------------------------------------------------------------------------

/// Rank level of a unit's leadership: 0 province government, 1 province department or city
/// government, 2 city department or county government, 3 county department or township.
type Level = usize;

const PRINCIPAL: [RankLevel; 4] = [
    RankLevel::ProvincialPrincipal,
    RankLevel::BureauPrincipal,
    RankLevel::DivisionPrincipal,
    RankLevel::SectionPrincipal,
];

const DEPUTY: [RankLevel; 4] = [
    RankLevel::ProvincialDeputy,
    RankLevel::BureauDeputy,
    RankLevel::DivisionDeputy,
    RankLevel::SectionDeputy,
];

/// Ranks of the staff (non-leaders) of units of a level, with weights.
fn staff_ranks(level: Level) -> &'static [(RankLevel, u32)] {
    use RankLevel::*;
    match level {
        0 | 1 => &[
            (DivisionPrincipal, 10),
            (DivisionDeputy, 12),
            (Inspector2, 2),
            (Researcher1, 4),
            (Researcher2, 6),
            (Researcher3, 8),
            (Researcher4, 8),
            (PrincipalStaff1, 10),
            (PrincipalStaff2, 10),
            (PrincipalStaff3, 8),
            (PrincipalStaff4, 8),
            (Staff1, 10),
            (Staff2, 6),
        ],
        2 => &[
            (SectionPrincipal, 10),
            (SectionDeputy, 12),
            (Researcher3, 3),
            (Researcher4, 5),
            (PrincipalStaff1, 8),
            (PrincipalStaff2, 10),
            (PrincipalStaff3, 10),
            (PrincipalStaff4, 10),
            (Staff1, 12),
            (Staff2, 8),
        ],
        _ => &[
            (Researcher4, 1),
            (PrincipalStaff1, 3),
            (PrincipalStaff2, 6),
            (PrincipalStaff3, 10),
            (PrincipalStaff4, 14),
            (Staff1, 22),
            (Staff2, 18),
        ],
    }
}

/// Ages (at the end of the current year) of holders of a rank.
fn age_range(rank: RankLevel) -> (i32, i32) {
    use RankLevel::*;
    match rank {
        ProvincialPrincipal | ProvincialDeputy => (50, 60),
        BureauPrincipal | BureauDeputy => (42, 59),
        DivisionPrincipal | DivisionDeputy => (35, 58),
        SectionPrincipal | SectionDeputy => (30, 57),
        Inspector1 | Inspector2 => (48, 60),
        Researcher1 | Researcher2 => (42, 60),
        Researcher3 | Researcher4 => (38, 60),
        PrincipalStaff1 | PrincipalStaff2 => (34, 60),
        PrincipalStaff3 => (30, 58),
        PrincipalStaff4 => (27, 50),
        Staff1 => (24, 40),
        Staff2 => (23, 32),
    }
}

/// The rank held before a promotion to `rank`.
fn step_down(rank: RankLevel) -> RankLevel {
    use RankLevel::*;
    match rank {
        ProvincialPrincipal => ProvincialDeputy,
        ProvincialDeputy => BureauPrincipal,
        BureauPrincipal => BureauDeputy,
        BureauDeputy => DivisionPrincipal,
        DivisionPrincipal => DivisionDeputy,
        DivisionDeputy => SectionPrincipal,
        SectionPrincipal => SectionDeputy,
        SectionDeputy => PrincipalStaff3,
        Inspector1 => Inspector2,
        Inspector2 => Researcher1,
        Researcher1 => Researcher2,
        Researcher2 => Researcher3,
        Researcher3 => Researcher4,
        Researcher4 => PrincipalStaff1,
        PrincipalStaff1 => PrincipalStaff2,
        PrincipalStaff2 => PrincipalStaff3,
        PrincipalStaff3 => PrincipalStaff4,
        PrincipalStaff4 => Staff1,
        Staff1 | Staff2 => Staff2,
    }
}

/// What a unit is, beyond its [`UnitKind`].
#[derive(Debug, Clone)]
enum Role {
    /// The party committee and government of a level (省/市/县/区): `seat` is that character.
    Head { seat: &'static str },
    /// A department, `head` the title of its principal (局长, 部长, 主任 …).
    Dept { head: &'static str },
    /// A township: 镇, 乡 or 街道.
    Town { sort: &'static str },
}

#[derive(Debug, Clone)]
struct Meta {
    level: Level,
    role: Role,
    weight: f64,
}

struct Gen {
    rng: ChaCha8Rng,
    spec: GenSpec,
    units: Vec<Unit>,
    meta: Vec<Meta>,
    cadres: Vec<Cadre>,
    appointments: Vec<Appointment>,
    sanctions_out: Vec<Sanction>,
    surnames: WeightedIndex<u32>,
    ethnicities: WeightedIndex<u32>,
    /// Place names in use, to keep provinces and cities unique.
    places: HashSet<String>,
}

fn code(s: &str) -> Code {
    Code::parse(s).expect("generated codes are short and free of white space")
}

fn weights<T>(list: &[(T, u32)]) -> WeightedIndex<u32> {
    WeightedIndex::new(list.iter().map(|(_, w)| *w))
        .unwrap_or_else(|_| unreachable!("static weight lists are non-empty and positive"))
}

impl Gen {
    fn new(spec: &GenSpec) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(spec.seed),
            spec: *spec,
            units: Vec::new(),
            meta: Vec::new(),
            cadres: Vec::with_capacity(spec.cadres),
            appointments: Vec::with_capacity(spec.cadres * 5 / 2),
            sanctions_out: Vec::new(),
            surnames: weights(names::SURNAMES),
            ethnicities: weights(names::ETHNICITIES),
            places: HashSet::new(),
        }
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.rng.random_range(0..list.len())]
    }

    /// An invented two-character place name not in `taken`.
    fn place(&mut self, taken: &mut HashSet<String>) -> String {
        for attempt in 0.. {
            let mut name = String::with_capacity(9);
            name.push_str(self.pick(names::PLACE_FIRST));
            name.push_str(self.pick(names::PLACE_SECOND));
            if attempt > 20 {
                name.push_str(self.pick(names::PLACE_SECOND));
            }
            if name.chars().nth(0) != name.chars().nth(1) && taken.insert(name.clone()) {
                return name;
            }
        }
        unreachable!("the loop returns")
    }

    fn push_unit(
        &mut self,
        code: &str,
        name: String,
        kind: UnitKind,
        parent: Option<&Code>,
        meta: Meta,
    ) -> Code {
        let code = self::code(code);
        self.units.push(Unit {
            code: code.clone(),
            name,
            kind,
            parent: parent.cloned(),
        });
        self.meta.push(meta);
        code
    }

    /// A level of government (`seat` 省, 市, 县 or 区) with `depts` departments.
    fn head(
        &mut self,
        code: &str,
        place: &str,
        seat: &'static str,
        parent: Option<&Code>,
        depts: usize,
    ) -> Code {
        let (kind, level) = match seat {
            "省" => (UnitKind::Province, 0),
            "市" => (UnitKind::City, 1),
            _ => (UnitKind::County, 2),
        };
        let full = format!("{place}{seat}");
        let head = self.push_unit(
            code,
            full.clone(),
            kind,
            parent,
            Meta {
                level,
                role: Role::Head { seat },
                weight: 0.6,
            },
        );
        let dept_level = level + 1;
        let size = [1.8, 1.8, 1.3, 1.0][level.min(3)];
        for (i, d) in DEPTS.iter().take(depts).enumerate() {
            let name = dept_name(d, &full, level == 0);
            let head_title = head_title(&name);
            let weight = size * self.rng.random_range(0.6..1.6);
            self.push_unit(
                &format!("{code}-{:03}", i + 1),
                name,
                UnitKind::Department,
                Some(&head),
                Meta {
                    level: dept_level,
                    role: Role::Dept { head: head_title },
                    weight,
                },
            );
        }
        head
    }

    /// A county (or district) with its departments and townships.
    fn county(
        &mut self,
        code: &str,
        place: &str,
        seat: &'static str,
        parent: Option<&Code>,
        depts: usize,
        towns: usize,
    ) {
        let county = self.head(code, place, seat, parent, depts);
        let mut taken = HashSet::new();
        for i in 0..towns {
            // Districts have more streets (街道), counties more towns and a few townships (乡).
            let street_share = if seat == "区" { 0.7 } else { 0.15 };
            let roll: f64 = self.rng.random();
            let (sort, base) = if roll < street_share {
                ("街道", 1)
            } else if roll < street_share + (1.0 - street_share) * 0.75 {
                ("镇", 100)
            } else {
                ("乡", 200)
            };
            let name = format!("{}{sort}", self.place(&mut taken));
            let weight = self.rng.random_range(0.8..1.5);
            self.push_unit(
                &format!("{code}{:03}", base + i),
                name,
                UnitKind::Township,
                Some(&county),
                Meta {
                    level: 3,
                    role: Role::Town { sort },
                    weight,
                },
            );
        }
    }

    fn build_tree(&mut self) {
        let n = self.spec.cadres;
        let mut places = std::mem::take(&mut self.places);
        if n <= 1_500 {
            let depts = (n / 20).clamp(3, 25);
            let towns = (n / 80).clamp(1, 16);
            let place = self.place(&mut places);
            let prefix = province_prefix(0);
            let code = format!(
                "{prefix}{:02}{:02}",
                self.rng.random_range(1..=20),
                self.rng.random_range(21..=30)
            );
            self.county(&code, &place, "县", None, depts, towns);
        } else if n <= 20_000 {
            let counties = (n / 1_000).clamp(2, 20);
            let prefix = province_prefix(0);
            let city_code = format!("{prefix}{:02}", self.rng.random_range(1..=15));
            self.city(&city_code, None, counties, &mut places);
        } else {
            let counties = n.div_ceil(1_000);
            let cities = counties.div_ceil(9);
            let provinces = cities.div_ceil(14).min(89);
            for p in 0..provinces {
                let prov_cities = share(cities, provinces, p);
                let prov_counties: usize = (0..prov_cities)
                    .map(|c| share(counties, cities, first_index(cities, provinces, p) + c))
                    .sum();
                let prefix = province_prefix(p);
                let place = self.place(&mut places);
                let prov = self.head(&format!("{prefix}0000"), &place, "省", None, 35);
                let mut counties_left = prov_counties;
                for c in 0..prov_cities {
                    let here = if c + 1 == prov_cities {
                        counties_left
                    } else {
                        share(prov_counties, prov_cities, c)
                    };
                    counties_left -= here.min(counties_left);
                    self.city(
                        &format!("{prefix}{:02}", c + 1),
                        Some(&prov),
                        here.max(1),
                        &mut places,
                    );
                }
            }
        }
        self.places = places;
    }

    /// A city (市) of districts and counties.
    fn city(
        &mut self,
        code: &str,
        parent: Option<&Code>,
        counties: usize,
        places: &mut HashSet<String>,
    ) {
        let place = self.place(places);
        let city = self.head(&format!("{code}00"), &place, "市", parent, 30);
        // Districts are numbered 02–20, counties from 21 (as in the division codes).
        let districts = (counties / 3).clamp(1, 19);
        let mut taken = HashSet::new();
        for i in 0..counties {
            let (seat, num) = if i < districts {
                ("区", 2 + i)
            } else {
                ("县", 21 + i - districts)
            };
            let towns = self.rng.random_range(6..=14);
            let name = self.place(&mut taken);
            self.county(
                &format!("{code}{num:02}"),
                &name,
                seat,
                Some(&city),
                25,
                towns,
            );
        }
    }

    /// Cadres and their appointment history.
    fn people(&mut self) {
        let counts = apportion(
            self.spec.cadres,
            &self.meta.iter().map(|m| m.weight).collect::<Vec<_>>(),
        );
        // Units by level, for earlier posts elsewhere.
        let mut by_level: [Vec<usize>; 4] = Default::default();
        for (i, m) in self.meta.iter().enumerate() {
            if !matches!(m.role, Role::Head { .. }) {
                by_level[m.level.min(3)].push(i);
            }
        }
        let mut seq = 0usize;
        for (u, &count) in counts.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let team = if count < 3 {
                count
            } else {
                self.rng.random_range(3..=9).min(count)
            };
            let principals = match self.meta[u].role {
                Role::Dept { .. } => 1,
                Role::Head { .. } | Role::Town { .. } => 2.min(team),
            };
            for k in 0..count {
                seq += 1;
                let level = self.meta[u].level;
                let (rank, post) = if k < principals {
                    (PRINCIPAL[level], self.leader_title(u, true, k))
                } else if k < team {
                    (DEPUTY[level], self.leader_title(u, false, k - principals))
                } else {
                    let list = staff_ranks(level);
                    let idx = weights(list).sample(&mut self.rng);
                    let rank = list[idx].0;
                    (rank, title(rank, &self.meta[u]))
                };
                self.cadre(seq, u, rank, post, k < team, &by_level);
            }
        }
    }

    fn leader_title(&mut self, u: usize, principal: bool, k: usize) -> String {
        match &self.meta[u].role {
            Role::Head { seat } => {
                if principal {
                    if k == 0 {
                        format!("{seat}委书记")
                    } else {
                        format!("{seat}长")
                    }
                } else {
                    let list = [
                        "{s}委副书记",
                        "常务副{s}长",
                        "{s}委常委",
                        "副{s}长",
                        "副{s}长",
                        "{s}委常委",
                        "副{s}长",
                    ];
                    list[k % list.len()].replace("{s}", seat)
                }
            }
            Role::Dept { head } => {
                if principal {
                    (*head).to_owned()
                } else {
                    deputy_title(head)
                }
            }
            Role::Town { sort } => {
                let street = *sort == "街道";
                if principal {
                    match (k, street) {
                        (0, true) => "党工委书记".to_owned(),
                        (0, false) => "党委书记".to_owned(),
                        (_, true) => "办事处主任".to_owned(),
                        (_, false) => format!("{sort}长"),
                    }
                } else if street {
                    [
                        "党工委副书记",
                        "办事处副主任",
                        "纪工委书记",
                        "办事处副主任",
                        "党工委委员",
                    ][k % 5]
                        .to_owned()
                } else {
                    let list = [
                        "党委副书记",
                        "人大主席",
                        "副{s}长",
                        "纪委书记",
                        "副{s}长",
                        "武装部部长",
                        "党委委员",
                    ];
                    list[k % list.len()].replace("{s}", sort)
                }
            }
        }
    }

    fn birth_date(&mut self, rank: RankLevel) -> Date {
        let (lo, hi) = age_range(rank);
        let age = self.rng.random_range(lo..=hi);
        self.day_in(self.spec.year - age)
    }

    fn day_in(&mut self, year: i32) -> Date {
        let days = time::util::days_in_year(year);
        Date::from_ordinal_date(year, self.rng.random_range(1..=days)).unwrap_or(Date::MIN)
    }

    fn name(&mut self, gender: Gender) -> String {
        let mut name = String::with_capacity(12);
        name.push_str(names::SURNAMES[self.surnames.sample(&mut self.rng)].0);
        let chars = if self.rng.random_bool(0.25) { 1 } else { 2 };
        for _ in 0..chars {
            let list = if self.rng.random_bool(0.3) {
                names::GIVEN_NEUTRAL
            } else if gender == Gender::Male {
                names::GIVEN_MALE
            } else {
                names::GIVEN_FEMALE
            };
            name.push_str(self.pick(list));
        }
        name
    }

    fn cadre(
        &mut self,
        seq: usize,
        u: usize,
        rank: RankLevel,
        post: String,
        leader: bool,
        by_level: &[Vec<usize>; 4],
    ) {
        let male_share = if leader && rank == PRINCIPAL[self.meta[u].level] {
            0.8
        } else {
            0.6
        };
        let gender = if self.rng.random_bool(male_share) {
            Gender::Male
        } else {
            Gender::Female
        };
        let name = self.name(gender);
        let ethnicity = names::ETHNICITIES[self.ethnicities.sample(&mut self.rng)]
            .0
            .to_owned();
        let birth_date = self.birth_date(rank);
        let age = self.spec.year - birth_date.year();
        let status = if leader {
            CadreStatus::Active
        } else {
            let roll: f64 = self.rng.random();
            if age >= 59 && roll < 0.3 {
                CadreStatus::Retired
            } else if roll < 0.01 {
                CadreStatus::TransferredOut
            } else if roll < 0.015 {
                CadreStatus::Left
            } else {
                CadreStatus::Active
            }
        };
        let id = code(&format!("G{seq:07}"));
        let unit = self.units[u].code.clone();
        self.history(&id, u, rank, &post, birth_date, by_level);
        self.cadres.push(Cadre {
            id,
            name,
            gender,
            ethnicity,
            birth_date,
            unit,
            post,
            rank,
            is_leader: leader,
            status,
        });
    }

    /// 1–4 appointments, oldest first, ending with the current post (no end date).
    fn history(
        &mut self,
        id: &Code,
        u: usize,
        rank: RankLevel,
        post: &str,
        birth: Date,
        by_level: &[Vec<usize>; 4],
    ) {
        let year_end =
            Date::from_ordinal_date(self.spec.year, time::util::days_in_year(self.spec.year))
                .unwrap_or(Date::MAX);
        // 22 years after birth (Feb 29 has no anniversary every year).
        let first_job = birth + Duration::days(22 * 365 + 6);
        let extra = [0, 1, 1, 2, 2, 2, 3, 3][self.rng.random_range(0..8)];
        let mut start = year_end - Duration::days(self.rng.random_range(30..=2_200));
        if start < first_job {
            start = first_job.min(year_end);
        }
        let mut entries = vec![Appointment {
            cadre: id.clone(),
            unit: self.units[u].code.clone(),
            post: post.to_owned(),
            rank,
            start_date: start,
            end_date: None,
        }];
        let (mut unit, mut rank) = (u, rank);
        for _ in 0..extra {
            let end = start - Duration::days(1);
            let begin = end - Duration::days(self.rng.random_range(365..=2_500));
            if begin < first_job {
                break;
            }
            // A promotion (to the rank held later), or a move at the same rank to another unit.
            let promoted = self.rng.random_bool(0.6) && step_down(rank) != rank;
            if promoted {
                rank = step_down(rank);
            }
            // Leading posts are held in a unit of their level; rank grades often in the
            // same unit.
            let level = PRINCIPAL
                .iter()
                .chain(DEPUTY.iter())
                .position(|r| *r == rank)
                .map(|i| i % 4);
            let candidates = match level {
                Some(l) if l != self.meta[unit].level => &by_level[l],
                _ if !promoted || self.rng.random_bool(0.5) => {
                    &by_level[self.meta[unit].level.min(3)]
                }
                _ => &Vec::new(),
            };
            if !candidates.is_empty() {
                unit = candidates[self.rng.random_range(0..candidates.len())];
            }
            let post = match level {
                Some(l) if l == self.meta[unit].level => {
                    if PRINCIPAL[l] == rank {
                        self.leader_title(unit, true, 1)
                    } else {
                        let k = self.rng.random_range(0..7);
                        self.leader_title(unit, false, k)
                    }
                }
                _ => title(rank, &self.meta[unit]),
            };
            entries.push(Appointment {
                cadre: id.clone(),
                unit: self.units[unit].code.clone(),
                post,
                rank,
                start_date: begin,
                end_date: Some(end),
            });
            start = begin;
        }
        self.appointments.extend(entries.into_iter().rev());
    }

    /// About 1% of cadres a year over the last three years, mostly warnings.
    fn sanctions(&mut self) {
        use SanctionKind::*;
        let kinds = [
            (Warning, 62u32),
            (Demerit, 26),
            (MajorDemerit, 7),
            (Demotion, 3),
            (Removal, 2),
        ];
        let kind_index = weights(&kinds);
        let reason_index = weights(names::REASONS);
        for year in self.spec.year - 2..=self.spec.year {
            let mut seq = 0;
            for c in 0..self.cadres.len() {
                if !self.rng.random_bool(0.01) {
                    continue;
                }
                seq += 1;
                let kind = kinds[kind_index.sample(&mut self.rng)].0;
                let reason = names::REASONS[reason_index.sample(&mut self.rng)]
                    .0
                    .to_owned();
                let start_date = self.day_in(year);
                self.sanctions_out.push(Sanction {
                    id: code(&format!("CF{year}-{seq:05}")),
                    cadre: self.cadres[c].id.clone(),
                    kind,
                    start_date,
                    end_date: None,
                    reason,
                });
            }
        }
    }
}

/// The two-digit prefix of the `i`-th province: real province codes first, then free ones.
fn province_prefix(i: usize) -> String {
    const REAL: [u8; 31] = [
        34, 36, 41, 42, 43, 51, 52, 53, 61, 62, 13, 14, 15, 21, 22, 23, 32, 33, 35, 37, 44, 45, 46,
        50, 54, 63, 64, 65, 11, 12, 31,
    ];
    match REAL.get(i) {
        Some(p) => p.to_string(),
        None => (10u8..=99)
            .filter(|c| !REAL.contains(c))
            .nth(i - REAL.len())
            .unwrap_or(99)
            .to_string(),
    }
}

/// The `i`-th of `parts` near-equal shares of `total`.
fn share(total: usize, parts: usize, i: usize) -> usize {
    total / parts + usize::from(i < total % parts)
}

/// Index of the first item of the `i`-th of `parts` shares of `total` items.
fn first_index(total: usize, parts: usize, i: usize) -> usize {
    (0..i).map(|j| share(total, parts, j)).sum()
}

/// Splits `total` in proportion to `weights`, exactly (largest remainders).
fn apportion(total: usize, weights: &[f64]) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let mut out: Vec<(usize, f64)> = weights
        .iter()
        .map(|w| {
            let exact = total as f64 * w / sum;
            (exact.floor() as usize, exact - exact.floor())
        })
        .collect();
    let given: usize = out.iter().map(|o| o.0).sum();
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by(|a, b| out[*b].1.total_cmp(&out[*a].1).then(a.cmp(b)));
    for &i in order.iter().cycle().take(total.saturating_sub(given)) {
        out[i].0 += 1;
    }
    out.into_iter().map(|o| o.0).collect()
}

fn dept_name(d: &Dept, place: &str, province: bool) -> String {
    if d.party {
        format!("中共{place}委{}", d.stem)
    } else {
        let suffix = if province { d.province } else { d.local };
        format!("{place}{}{suffix}", d.stem)
    }
}

fn head_title(name: &str) -> &'static str {
    if name.ends_with("办公室") || name.ends_with("委员会") && !name.ends_with("政法委员会")
    {
        "主任"
    } else if name.ends_with("政法委员会") {
        "书记"
    } else if name.ends_with('部') {
        "部长"
    } else if name.ends_with('厅') {
        "厅长"
    } else {
        "局长"
    }
}

fn deputy_title(head: &str) -> String {
    if head == "书记" {
        "副书记".to_owned()
    } else {
        format!("副{head}")
    }
}

/// Post title of a non-leader of `rank` in a unit.
fn title(rank: RankLevel, meta: &Meta) -> String {
    use RankLevel::*;
    if rank == PRINCIPAL[meta.level] {
        return match &meta.role {
            Role::Head { seat } => format!("{seat}长"),
            Role::Dept { head } => (*head).to_owned(),
            Role::Town { sort } => {
                if *sort == "街道" {
                    "办事处主任".to_owned()
                } else {
                    format!("{sort}长")
                }
            }
        };
    }
    if rank == DEPUTY[meta.level] {
        return match &meta.role {
            Role::Head { seat } => format!("副{seat}长"),
            Role::Dept { head } => deputy_title(head),
            Role::Town { sort } => {
                if *sort == "街道" {
                    "办事处副主任".to_owned()
                } else {
                    format!("副{sort}长")
                }
            }
        };
    }
    match rank {
        BureauPrincipal => "秘书长",
        BureauDeputy => "副秘书长",
        DivisionPrincipal => "处长",
        DivisionDeputy => "副处长",
        SectionPrincipal => "科长",
        SectionDeputy => "副科长",
        ProvincialPrincipal | ProvincialDeputy => "省级领导",
        other => return kaohe_domain::Labeled::zh(other).to_owned(),
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_is_exact() {
        assert_eq!(apportion(10, &[1.0, 1.0, 2.0]), vec![3, 2, 5]);
        assert_eq!(apportion(0, &[1.0]), vec![0]);
        assert_eq!(apportion(7, &[]), Vec::<usize>::new());
        let w: Vec<f64> = (1..100).map(f64::from).collect();
        assert_eq!(apportion(12_345, &w).iter().sum::<usize>(), 12_345);
    }

    #[test]
    fn shares_add_up() {
        for (total, parts) in [(100, 12), (7, 3), (1000, 112)] {
            assert_eq!(
                (0..parts).map(|i| share(total, parts, i)).sum::<usize>(),
                total
            );
            assert_eq!(first_index(total, parts, parts), total);
        }
    }

    #[test]
    fn titles() {
        assert_eq!(head_title("和平县财政局"), "局长");
        assert_eq!(head_title("中共和平县委组织部"), "部长");
        assert_eq!(head_title("和平县人民政府办公室"), "主任");
        assert_eq!(head_title("和平县卫生健康委员会"), "主任");
        assert_eq!(head_title("中共和平县委政法委员会"), "书记");
        assert_eq!(head_title("江安省教育厅"), "厅长");
        assert_eq!(deputy_title("书记"), "副书记");
    }
}
