//! Domain types and rules of kaohe (考核), with no IO, no database and no async.
//!
//! This crate is the single home of the rules that every other part of kaohe applies:
//! the organization model ([`org`]), grade scales ([`grade`]), disciplinary sanctions and the
//! grade blocks they cause ([`sanction`]), and the working-day calendar with its holidays and
//! make-up working days ([`calendar`]), public ratings of services with the rectification of bad
//! reviews ([`ratings`]). The store, the web layer and the CLI call into it; none of
//! them re-implements a rule.

pub mod access;
pub mod audit;
pub mod calendar;
pub mod code;
pub mod cycles;
pub mod grade;
pub mod labels;
pub mod org;
pub mod polls;
pub mod ratings;
pub mod records;
pub mod sanction;
pub mod text;
pub mod upload;

pub use access::{Permission, Principal, Role, Target, UserPrincipal};
pub use audit::{AuditEntry, AuditHead, AuditProblem, AuditReport, HeadSource, NewAuditEntry};
pub use calendar::{CalendarEntry, CalendarError, DayKind, WorkCalendar, YearMonth};
pub use code::{Code, CodeError, code_order, repeated_codes};
pub use grade::{AnnualGrade, GradeScale, RoutineGrade, TeamGrade};
pub use labels::{Labeled, ParseLabelError};
pub use org::{Appointment, Cadre, CadreStatus, Gender, RankLevel, Unit, UnitKind, UnitTree};
pub use sanction::{GradeBlocks, Sanction, SanctionKind, SanctionPeriods};
