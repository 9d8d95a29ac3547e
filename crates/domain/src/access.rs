//! Who may do what, written once: roles, permissions, the role → permission matrix, unit and
//! record scope, separation of the three administrator roles (三员分立), password policy,
//! login lockout and TOTP second factors (RFC 6238).
//!
//! Everything here is pure: callers pass in the time, the settings and the unit ancestry.

use crate::code::Code;
use crate::labels::Labeled;
use std::collections::BTreeSet;

crate::labeled_enum! {
    /// A role an account holds.
    pub enum Role: "role" {
        /// 系统管理员: settings and accounts; no access to assessment content.
        SystemAdmin = ("system_admin", "系统管理员", "System administrator"),
        /// 安全管理员: roles and permissions.
        SecurityAdmin = ("security_admin", "安全管理员", "Security administrator"),
        /// 审计管理员: reads and verifies the audit log, changes nothing else.
        AuditAdmin = ("audit_admin", "审计管理员", "Audit administrator"),
        /// 考核人员: assesses the units assigned (and the units under them).
        Assessor = ("assessor", "考核人员", "Assessor"),
        /// 单位领导: sees their own unit.
        UnitLeader = ("unit_leader", "单位领导", "Unit leader"),
        /// 干部: sees their own record and results (the right to know).
        Official = ("official", "干部", "Official"),
        /// 测评人: holds a one-time ballot code only.
        Rater = ("rater", "测评人", "Rater"),
        /// 公众: rates a service, reads published notices, lodges an objection.
        Public = ("public", "公众", "Public"),
        /// 接入系统: a government service system that pushes service cases and ratings through
        /// the API with a token; sees nothing.
        ServiceSystem = ("service_system", "接入系统", "Service system"),
    }
}

impl Role {
    /// The three administrator roles, of which no account may hold two.
    pub const ADMINS: [Role; 3] = [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin];

    /// Whether this is one of the three administrator roles.
    pub fn is_admin(self) -> bool {
        Self::ADMINS.contains(&self)
    }

    /// Whether an account with this role must use a TOTP second factor.
    pub fn requires_totp(self) -> bool {
        self.is_admin()
    }

    /// The permissions this role grants: the one role → permission matrix.
    pub fn grants(self, permission: Permission) -> bool {
        use Permission as P;
        match permission {
            P::Public => true,
            P::Authenticated => self != Role::Public,
            P::ViewOrganization => self == Role::Assessor,
            P::ViewUnit => matches!(self, Role::Assessor | Role::UnitLeader),
            P::ViewCadre => matches!(self, Role::Assessor | Role::UnitLeader | Role::Official),
            P::ManageAccounts => self == Role::SystemAdmin,
            P::ManageRoles => self == Role::SecurityAdmin,
            P::ViewAudit => self == Role::AuditAdmin,
            P::PushServiceData => self == Role::ServiceSystem,
            P::HandleRectification | P::ViewContact | P::ViewServiceFigures => {
                matches!(self, Role::Assessor | Role::UnitLeader)
            }
            P::FileAppeal => self == Role::UnitLeader,
            P::DecideAppeal => self == Role::Assessor,
            P::ViewCycles
            | P::ManageCycles
            | P::DecideCommittee
            | P::FinalizeCycle
            | P::AmendResults => self == Role::Assessor,
            P::ViewOwnResults => matches!(self, Role::UnitLeader | Role::Official),
            P::ViewRecords | P::RecordFacts => matches!(self, Role::Assessor | Role::UnitLeader),
            P::VerifyRecords => self == Role::Assessor,
            P::ViewOwnRecords => self == Role::Official,
            P::JudgeRoutine => self == Role::UnitLeader,
        }
    }
}

/// What a route or an action requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Anyone, signed in or not: health check, static assets, language switch, login, API
    /// documentation.
    Public,
    /// Anyone signed in, whatever their roles (an account still waiting for its roles
    /// included): the working-day calendar, the account's own page.
    Authenticated,
    /// Organization-wide lists and statistics: units, cadres, counts.
    ViewOrganization,
    /// One unit's detail, within the principal's unit scope.
    ViewUnit,
    /// One cadre's record, within the principal's scope (own record for an official).
    ViewCadre,
    /// Accounts: create, reset, disable, list.
    ManageAccounts,
    /// Roles and permissions of accounts.
    ManageRoles,
    /// Reading and verifying the audit log.
    ViewAudit,
    /// Pushing service cases and ratings from a service system (接入).
    PushServiceData,
    /// The rectification queue of bad reviews and their steps, within the unit scope.
    HandleRectification,
    /// The full phone number of a rater or applicant, for the callback (audited).
    ViewContact,
    /// Satisfaction figures of the units in scope.
    ViewServiceFigures,
    /// Appealing a review of one's unit (申诉).
    FileAppeal,
    /// Deciding appeals of units in scope (复核).
    DecideAppeal,
    /// Assessment cycles of the units in scope: their progress, values and results.
    ViewCycles,
    /// Creating cycles, opening them, importing values, computing, submitting to the committee.
    ManageCycles,
    /// Recording decisions of the assessment committee (考核委员会) on ties and flags.
    DecideCommittee,
    /// Locking a cycle's results (定稿).
    FinalizeCycle,
    /// Correcting a final result by amendment (更正).
    AmendResults,
    /// Final results within the scope: an official's own, a unit leader's unit's.
    ViewOwnResults,
    /// Work records (纪实) of the officials in scope: timelines, evidence, export.
    ViewRecords,
    /// Recording facts (纪实) of officials in scope, importing them, correcting by amendment.
    RecordFacts,
    /// Verifying or rejecting the records of officials in scope (核实).
    VerifyRecords,
    /// An official's own timeline of work records and their evidence.
    ViewOwnRecords,
    /// The unit leader's judgement (负责人评价) of the people of their unit in a routine cycle.
    JudgeRoutine,
}

impl Permission {
    /// Every permission, for matrices and documentation.
    pub const ALL: [Permission; 25] = [
        Permission::Public,
        Permission::Authenticated,
        Permission::ViewOrganization,
        Permission::ViewUnit,
        Permission::ViewCadre,
        Permission::ManageAccounts,
        Permission::ManageRoles,
        Permission::ViewAudit,
        Permission::PushServiceData,
        Permission::HandleRectification,
        Permission::ViewContact,
        Permission::ViewServiceFigures,
        Permission::FileAppeal,
        Permission::DecideAppeal,
        Permission::ViewCycles,
        Permission::ManageCycles,
        Permission::DecideCommittee,
        Permission::FinalizeCycle,
        Permission::AmendResults,
        Permission::ViewOwnResults,
        Permission::ViewRecords,
        Permission::RecordFacts,
        Permission::VerifyRecords,
        Permission::ViewOwnRecords,
        Permission::JudgeRoutine,
    ];
}

/// What a scoped permission is asked about.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Nothing in particular: the permission alone decides.
    Any,
    /// A unit, with its ancestors (any order).
    Unit {
        /// The unit.
        code: &'a Code,
        /// Its ancestors up to the root.
        ancestors: &'a [Code],
    },
    /// A cadre's record, with the unit they serve in and that unit's ancestors.
    Cadre {
        /// The cadre.
        id: &'a Code,
        /// Unit served in.
        unit: &'a Code,
        /// That unit's ancestors.
        unit_ancestors: &'a [Code],
    },
}

/// Who is asking: nobody, or a signed-in account with its roles and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Nobody signed in: the public.
    Anonymous,
    /// A signed-in account.
    User(UserPrincipal),
}

/// A signed-in account as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPrincipal {
    /// Account name.
    pub username: String,
    /// Roles held.
    pub roles: BTreeSet<Role>,
    /// Units of the account: for an assessor the units assigned (their descendants
    /// included), for a unit leader their unit (itself only).
    pub units: Vec<Code>,
    /// The cadre record of the account, for an official.
    pub cadre: Option<Code>,
}

impl Principal {
    /// The account name, when signed in.
    pub fn username(&self) -> Option<&str> {
        match self {
            Principal::Anonymous => None,
            Principal::User(u) => Some(&u.username),
        }
    }

    /// Whether some role of the principal grants `permission` (scope not considered).
    pub fn holds(&self, permission: Permission) -> bool {
        match self {
            Principal::Anonymous => Role::Public.grants(permission),
            Principal::User(u) => {
                Self::signed_in_grants(permission) || u.roles.iter().any(|r| r.grants(permission))
            }
        }
    }

    /// What being signed in grants without any role.
    fn signed_in_grants(permission: Permission) -> bool {
        matches!(permission, Permission::Public | Permission::Authenticated)
    }

    /// Whether the principal may see organization-wide lists and counts: some role grants
    /// [`Permission::ViewOrganization`] and its unit scope covers every root unit. Others list
    /// only within a unit of their scope.
    pub fn sees_whole_organization(&self, roots: &[Code]) -> bool {
        self.holds(Permission::ViewOrganization)
            && roots.iter().all(|code| {
                self.may(
                    Permission::ViewUnit,
                    Target::Unit {
                        code,
                        ancestors: &[],
                    },
                )
            })
    }

    /// Whether the principal may use `permission` on `target`: some role grants it and the
    /// target lies in that role's scope.
    pub fn may(&self, permission: Permission, target: Target<'_>) -> bool {
        let user = match self {
            Principal::Anonymous => return Role::Public.grants(permission),
            Principal::User(u) => u,
        };
        if Self::signed_in_grants(permission) {
            return true;
        }
        user.roles
            .iter()
            .any(|role| role.grants(permission) && user.in_scope(*role, target))
    }
}

impl UserPrincipal {
    /// Whether the account holds `role` and that role's unit scope covers `unit`, given with
    /// its ancestors: an assessor's assigned units and the units under them, a unit leader's
    /// own unit.
    pub fn covers(&self, role: Role, unit: &Code, ancestors: &[Code]) -> bool {
        self.roles.contains(&role)
            && self.in_scope(
                role,
                Target::Unit {
                    code: unit,
                    ancestors,
                },
            )
    }

    fn in_scope(&self, role: Role, target: Target<'_>) -> bool {
        let covers = |unit: &Code, ancestors: &[Code]| match role {
            Role::Assessor => self
                .units
                .iter()
                .any(|u| u == unit || ancestors.contains(u)),
            Role::UnitLeader => self.units.contains(unit),
            _ => false,
        };
        match target {
            Target::Any => true,
            Target::Unit { code, ancestors } => covers(code, ancestors),
            Target::Cadre {
                id,
                unit,
                unit_ancestors,
            } => match role {
                Role::Official => self.cadre.as_ref() == Some(id),
                _ => covers(unit, unit_ancestors),
            },
        }
    }
}

/// Four eyes (双人复核): whoever proposed, filed or worked a matter never decides it.
///
/// One rule for every decision kaohe records: appeals of bad reviews, verification of work
/// records (纪实), committee decisions, objections, reviews and outcome proposals. `involved`
/// lists the accounts that proposed, filed or worked the matter; `decider` is the account
/// about to decide it.
pub fn check_four_eyes<'a>(
    involved: impl IntoIterator<Item = &'a str>,
    decider: &str,
) -> Result<(), FourEyesError> {
    if involved.into_iter().any(|who| who == decider) {
        return Err(FourEyesError {
            decider: decider.to_owned(),
        });
    }
    Ok(())
}

/// A decision refused because its decider proposed or worked the matter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{decider} proposed or worked this matter and may not decide it: another account must (four eyes)"
)]
pub struct FourEyesError {
    /// The account that may not decide.
    pub decider: String,
}

/// Why a set of roles may not be held together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// Two of the three administrator roles (三员分立).
    #[error("no account may hold two administrator roles: {0} and {1}")]
    TwoAdmins(&'static str, &'static str),
    /// An administrator role together with a business role: administrators see no assessment
    /// content and act on no case, so an administrator account holds its one role only.
    #[error("an administrator role holds no business role: {0} may not be given together with {1}")]
    AdminWithBusinessRole(&'static str, &'static str),
    /// No role at all.
    #[error("an account needs at least one role")]
    NoRole,
    /// The change would leave no enabled account holding an administrator role.
    #[error(
        "this is the last enabled {0}: give the role to another account first (the command line `kaohe user` stays the recovery)"
    )]
    LastHolder(&'static str),
    /// An administrator assigning roles to their own account.
    #[error("nobody may assign roles to their own account")]
    OwnAccount,
    /// A role scoped to units without a unit.
    #[error("{0} needs at least one unit")]
    UnitsNeeded(&'static str),
    /// Units for an account whose roles have no unit scope.
    #[error("units are a scope of assessor and unit_leader only")]
    UnitsUnused,
    /// An official without a cadre record.
    #[error("official needs the account holder's cadre record")]
    CadreNeeded,
    /// A cadre record for an account that is not an official.
    #[error("a cadre record is a scope of official only")]
    CadreUnused,
    /// An administrator role for an account without a TOTP second factor.
    #[error(
        "{0} needs a TOTP second factor: the account must set one up on its account page first"
    )]
    NeedsTotp(&'static str),
}

/// Checks that no two of the three administrator roles are held together (三员分立), and that
/// an administrator role is held alone: never with a business role (assessor, unit leader,
/// official, rater, service system), which would let an administrator read or act on
/// assessment content.
pub fn check_admin_separation(roles: &BTreeSet<Role>) -> Result<(), RoleError> {
    if roles.is_empty() {
        return Err(RoleError::NoRole);
    }
    let (admins, business): (Vec<Role>, Vec<Role>) = roles.iter().partition(|r| r.is_admin());
    match (admins.as_slice(), business.first()) {
        ([a, b, ..], _) => Err(RoleError::TwoAdmins(a.code(), b.code())),
        ([a], Some(b)) => Err(RoleError::AdminWithBusinessRole(a.code(), b.code())),
        _ => Ok(()),
    }
}

/// Checks an assignment of `roles` to `account` by `granter`: never to one's own account,
/// at least one role, no two administrator roles (三员分立), and an administrator role only for
/// an account that already has a TOTP second factor (`has_totp`), since administrators cannot
/// sign in without one.
pub fn check_role_assignment(
    granter: &str,
    account: &str,
    roles: &BTreeSet<Role>,
    has_totp: bool,
) -> Result<(), RoleError> {
    if granter == account {
        return Err(RoleError::OwnAccount);
    }
    check_admin_separation(roles)?;
    match roles.iter().find(|r| r.requires_totp()) {
        Some(role) if !has_totp => Err(RoleError::NeedsTotp(role.code())),
        _ => Ok(()),
    }
}

/// The last holder (三员 stay filled): refuses a change that takes an administrator role from
/// an enabled account (by demotion or by disabling it) when no other enabled account would
/// hold that role afterwards. `lost` are the administrator roles the account gives up;
/// `holders_after` counts the enabled accounts holding a role once the change is made.
pub fn check_last_holder(
    lost: impl IntoIterator<Item = Role>,
    holders_after: impl Fn(Role) -> usize,
) -> Result<(), RoleError> {
    match lost
        .into_iter()
        .find(|r| r.is_admin() && holders_after(*r) == 0)
    {
        Some(role) => Err(RoleError::LastHolder(role.code())),
        None => Ok(()),
    }
}

/// Checks that the scope fits the roles: assessors and unit leaders need units, officials
/// their cadre record, and no other role takes either.
pub fn check_scope(
    roles: &BTreeSet<Role>,
    units: &[Code],
    cadre: Option<&Code>,
) -> Result<(), RoleError> {
    let unit_roles: Vec<Role> = roles
        .iter()
        .copied()
        .filter(|r| matches!(r, Role::Assessor | Role::UnitLeader))
        .collect();
    match (unit_roles.first(), units.is_empty()) {
        (Some(role), true) => return Err(RoleError::UnitsNeeded(role.code())),
        (None, false) => return Err(RoleError::UnitsUnused),
        _ => {}
    }
    match (roles.contains(&Role::Official), cadre.is_some()) {
        (true, false) => Err(RoleError::CadreNeeded),
        (false, true) => Err(RoleError::CadreUnused),
        _ => Ok(()),
    }
}

/// Longest account name, in characters.
pub const MAX_USERNAME_CHARS: usize = 64;

/// Why an account name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Nothing given.
    #[error("the account name is empty")]
    Empty,
    /// Longer than [`MAX_USERNAME_CHARS`].
    #[error("the account name is longer than {MAX_USERNAME_CHARS} characters")]
    TooLong,
    /// A character other than letters, digits and `. _ - @`.
    #[error("the account name may hold only letters, digits and . _ - @, not {0:?}")]
    BadChar(char),
}

/// Checks an account name: 1 to [`MAX_USERNAME_CHARS`] letters (any script), digits and
/// `. _ - @`, so that it reads unambiguously in logs, audit entries and URLs.
pub fn check_username(name: &str) -> Result<(), UsernameError> {
    if name.is_empty() {
        return Err(UsernameError::Empty);
    }
    if name.chars().count() > MAX_USERNAME_CHARS {
        return Err(UsernameError::TooLong);
    }
    match name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
    {
        Some(c) => Err(UsernameError::BadChar(c)),
        None => Ok(()),
    }
}

/// Password policy settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Fewest characters.
    pub min_length: usize,
    /// Fewest character classes (lower case, upper case, digits, others) out of four.
    pub min_classes: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 12,
            min_classes: 3,
        }
    }
}

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Too short.
    #[error("the password must have at least {0} characters")]
    TooShort(usize),
    /// Too few character classes.
    #[error(
        "the password must mix at least {0} of: lower case, upper case, digits, other characters"
    )]
    TooFewClasses(usize),
    /// Contains the account name.
    #[error("the password must not contain the account name")]
    ContainsUsername,
}

impl PasswordPolicy {
    /// Checks a new password for `username`.
    pub fn check(&self, username: &str, password: &str) -> Result<(), PasswordError> {
        if password.chars().count() < self.min_length {
            return Err(PasswordError::TooShort(self.min_length));
        }
        let classes = [
            password.chars().any(|c| c.is_lowercase()),
            password.chars().any(|c| c.is_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password
                .chars()
                .any(|c| !c.is_lowercase() && !c.is_uppercase() && !c.is_ascii_digit()),
        ]
        .into_iter()
        .filter(|b| *b)
        .count();
        if classes < self.min_classes {
            return Err(PasswordError::TooFewClasses(self.min_classes));
        }
        let name = username.trim().to_lowercase();
        if !name.is_empty() && password.to_lowercase().contains(&name) {
            return Err(PasswordError::ContainsUsername);
        }
        Ok(())
    }
}

/// Login lockout settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive failures that lock the account.
    pub max_failures: u32,
    /// How long a lock lasts, in seconds.
    pub lock_seconds: i64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lock_seconds: 15 * 60,
        }
    }
}

impl LockoutPolicy {
    /// Until when (unix seconds) the account is locked, if it is locked at `now`, given its
    /// consecutive failures and the time of the last one.
    pub fn locked_until(&self, failures: u32, last_failure: Option<i64>, now: i64) -> Option<i64> {
        let last = last_failure?;
        if failures < self.max_failures {
            return None;
        }
        let until = last.saturating_add(self.lock_seconds);
        (now < until).then_some(until)
    }

    /// The failure count after a new failure at `now`: a lock that has run out starts the
    /// count again.
    pub fn failures_after_failure(
        &self,
        failures: u32,
        last_failure: Option<i64>,
        now: i64,
    ) -> u32 {
        let expired = failures >= self.max_failures
            && self.locked_until(failures, last_failure, now).is_none();
        if expired {
            1
        } else {
            failures.saturating_add(1)
        }
    }
}

/// Idle session timeout, in seconds (default 10 minutes).
pub const DEFAULT_IDLE_TIMEOUT_SECONDS: i64 = 10 * 60;

/// Whether a session last seen at `last_seen` has timed out at `now`.
pub fn session_expired(last_seen: i64, now: i64, idle_timeout_seconds: i64) -> bool {
    now.saturating_sub(last_seen) >= idle_timeout_seconds
}

/// TOTP (RFC 6238): HMAC-SHA-1, 30-second steps, 6 digits, one step of clock drift either way,
/// computed by `totp-rs`. Accepting each step once (replay protection) is the caller's: see
/// [`verified_step`](totp::verified_step).
pub mod totp {
    use totp_rs::{Algorithm, Builder, Secret, Totp};

    /// Step length in seconds.
    pub const STEP: i64 = 30;
    /// Digits of a code.
    pub const DIGITS: u8 = 6;

    fn totp(secret: &[u8], digits: u8) -> Option<Totp> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(digits)
            .with_skew(1)
            .with_step_duration(STEP.unsigned_abs())
            .with_secret(secret.to_vec())
            .build()
            .ok()
    }

    fn unix(now: i64) -> u64 {
        u64::try_from(now).unwrap_or(0)
    }

    /// The code of `secret` at unix time `now` with `digits` digits (6 to 8), zero-padded;
    /// `None` for a secret shorter than RFC 4226's 128 bits.
    pub fn code_of(secret: &[u8], now: i64, digits: u8) -> Option<String> {
        totp(secret, digits).map(|t| t.generate(unix(now)).to_string())
    }

    /// The 6-digit code of `secret` at unix time `now`, zero-padded (empty for a secret
    /// shorter than 128 bits, which no code matches).
    pub fn code(secret: &[u8], now: i64) -> String {
        code_of(secret, now, DIGITS).unwrap_or_default()
    }

    /// Whether `code` is valid at `now`, one step of clock drift either way allowed.
    pub fn verify(secret: &[u8], code: &str, now: i64) -> bool {
        verified_step(secret, code, now).is_some()
    }

    /// The time step (`now / STEP`, one of drift either way) whose code `code` is, if any: a
    /// caller that accepts each step once (replay protection) remembers it. The codes are
    /// compared in constant time by `totp-rs`.
    pub fn verified_step(secret: &[u8], code: &str, now: i64) -> Option<i64> {
        totp(secret, DIGITS)?
            .check(code.trim(), unix(now))
            .and_then(|step| i64::try_from(step).ok())
    }

    /// RFC 4648 base32 without padding, as authenticator apps take secrets.
    pub fn base32_encode(bytes: &[u8]) -> String {
        Secret::from(bytes).to_base32()
    }

    /// Decodes base32 (case-insensitive, padding and spaces ignored); `None` if invalid.
    pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
        let plain: String = text
            .chars()
            .filter(|c| *c != '=' && !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        Secret::try_from_base32(plain)
            .ok()
            .map(|secret| secret.as_bytes().to_vec())
    }

    /// The `otpauth://` URI that authenticator apps scan; `None` if the secret is not base32
    /// of at least 128 bits or the account name holds a colon.
    pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> Option<String> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_step_duration(STEP.unsigned_abs())
            .with_secret(base32_decode(secret_base32)?)
            .with_issuer(Some(issuer))
            .with_account_name(account)
            .build()
            .ok()?
            .to_url()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> Code {
        Code::parse(s).expect("code")
    }

    fn user(roles: &[Role], units: &[&str], cadre: Option<&str>) -> Principal {
        Principal::User(UserPrincipal {
            username: "u".into(),
            roles: roles.iter().copied().collect(),
            units: units.iter().map(|u| code(u)).collect(),
            cadre: cadre.map(code),
        })
    }

    #[test]
    fn rfc6238_sha1_vectors() {
        let secret = b"12345678901234567890";
        for (t, expected) in [
            (59_i64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(
                totp::code_of(secret, t, 8).as_deref(),
                Some(expected),
                "T={t}"
            );
        }
        assert_eq!(totp::code(secret, 59), "287082");
        assert!(totp::verify(secret, "287082", 59));
        assert!(totp::verify(secret, " 287082 ", 59), "spaces around");
        assert!(totp::verify(secret, "287082", 59 + 30), "one step late");
        assert!(!totp::verify(secret, "287082", 59 + 90), "three steps late");
        assert!(!totp::verify(secret, "28708", 59));
        assert!(!totp::verify(secret, "+28708", 59));
        assert_eq!(totp::verified_step(secret, "287082", 59 + 30), Some(1));
        assert_eq!(totp::verified_step(secret, "287083", 59), None);
        assert_eq!(totp::code_of(b"short", 59, 6), None, "under 128 bits");
    }

    #[test]
    fn base32_round_trips_and_the_otpauth_uri() {
        assert_eq!(totp::base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(
            totp::base32_decode("MZXW6YTBOI======"),
            Some(b"foobar".to_vec())
        );
        assert_eq!(totp::base32_decode("mzxw6ytboi"), Some(b"foobar".to_vec()));
        assert_eq!(
            totp::base32_decode("MZXW 6YTB OI"),
            Some(b"foobar".to_vec())
        );
        assert_eq!(totp::base32_decode("1"), None);
        let bytes: Vec<u8> = (0..20).collect();
        let secret = totp::base32_encode(&bytes);
        assert_eq!(totp::base32_decode(&secret), Some(bytes));
        assert_eq!(
            totp::otpauth_uri("kaohe", "li.wei", &secret).as_deref(),
            Some(format!("otpauth://totp/kaohe:li.wei?secret={secret}&issuer=kaohe").as_str())
        );
        assert!(
            totp::otpauth_uri("kaohe", "王伟", &secret)
                .is_some_and(|uri| uri.starts_with("otpauth://totp/kaohe:%E7%8E%8B"))
        );
        assert_eq!(totp::otpauth_uri("kaohe", "li", "MZXW6YTBOI"), None);
    }

    #[test]
    fn admin_roles_are_separate() {
        let set = |r: &[Role]| r.iter().copied().collect::<BTreeSet<_>>();
        assert!(check_admin_separation(&set(&[Role::SystemAdmin])).is_ok());
        assert!(check_admin_separation(&set(&[Role::Assessor, Role::Official])).is_ok());
        for (a, b) in [
            (Role::SystemAdmin, Role::SecurityAdmin),
            (Role::SystemAdmin, Role::AuditAdmin),
            (Role::SecurityAdmin, Role::AuditAdmin),
        ] {
            assert!(check_admin_separation(&set(&[a, b])).is_err());
        }
        assert!(check_four_eyes(["ana", "bo"], "cy").is_ok());
        assert_eq!(
            check_four_eyes(["ana", "bo"], "bo"),
            Err(FourEyesError {
                decider: "bo".into()
            })
        );
        assert_eq!(check_admin_separation(&set(&[])), Err(RoleError::NoRole));
        for admin in Role::ADMINS {
            for business in Role::ALL.iter().copied().filter(|r| !r.is_admin()) {
                assert_eq!(
                    check_admin_separation(&set(&[admin, business])),
                    Err(RoleError::AdminWithBusinessRole(
                        admin.code(),
                        business.code()
                    )),
                    "{admin:?} with {business:?}"
                );
            }
        }
    }

    #[test]
    fn role_assignments() {
        let set = |r: &[Role]| r.iter().copied().collect::<BTreeSet<_>>();
        assert_eq!(
            check_role_assignment("sec", "sec", &set(&[Role::Assessor]), false),
            Err(RoleError::OwnAccount)
        );
        assert!(check_role_assignment("sec", "li", &set(&[Role::Assessor]), false).is_ok());
        assert_eq!(
            check_role_assignment("sec", "li", &set(&[]), false),
            Err(RoleError::NoRole)
        );
        assert!(matches!(
            check_role_assignment(
                "sec",
                "li",
                &set(&[Role::SystemAdmin, Role::AuditAdmin]),
                true
            ),
            Err(RoleError::TwoAdmins(..))
        ));
        assert_eq!(
            check_role_assignment("sec", "li", &set(&[Role::AuditAdmin]), false),
            Err(RoleError::NeedsTotp("audit_admin"))
        );
        assert!(check_role_assignment("sec", "li", &set(&[Role::AuditAdmin]), true).is_ok());
        assert_eq!(
            check_role_assignment("sec", "li", &set(&[Role::AuditAdmin, Role::Assessor]), true),
            Err(RoleError::AdminWithBusinessRole("audit_admin", "assessor"))
        );
        assert_eq!(
            check_role_assignment(
                "sec",
                "li",
                &set(&[Role::SystemAdmin, Role::ServiceSystem]),
                true
            ),
            Err(RoleError::AdminWithBusinessRole(
                "system_admin",
                "service_system"
            ))
        );
    }

    #[test]
    fn the_last_holder_of_an_administrator_role_stays() {
        let holders = |n: usize| move |_: Role| n;
        assert_eq!(
            check_last_holder([Role::SecurityAdmin], holders(0)),
            Err(RoleError::LastHolder("security_admin"))
        );
        assert!(check_last_holder([Role::SecurityAdmin], holders(1)).is_ok());
        assert!(check_last_holder([Role::Assessor], holders(0)).is_ok());
        assert!(check_last_holder([], holders(0)).is_ok());
    }

    #[test]
    fn scope_fits_the_roles() {
        let set = |r: &[Role]| r.iter().copied().collect::<BTreeSet<_>>();
        let units = [code("340102")];
        let c1 = code("C1");
        assert!(check_scope(&set(&[Role::Assessor]), &units, None).is_ok());
        assert_eq!(
            check_scope(&set(&[Role::UnitLeader]), &[], None),
            Err(RoleError::UnitsNeeded("unit_leader"))
        );
        assert_eq!(
            check_scope(&set(&[Role::Rater]), &units, None),
            Err(RoleError::UnitsUnused)
        );
        assert_eq!(
            check_scope(&set(&[Role::Official]), &[], None),
            Err(RoleError::CadreNeeded)
        );
        assert_eq!(
            check_scope(&set(&[Role::Assessor]), &units, Some(&c1)),
            Err(RoleError::CadreUnused)
        );
        assert!(check_scope(&set(&[Role::Official, Role::Assessor]), &units, Some(&c1)).is_ok());
        assert!(check_scope(&set(&[Role::SecurityAdmin]), &[], None).is_ok());
    }

    #[test]
    fn usernames() {
        assert!(check_username("li.si-2@x_y").is_ok());
        assert!(check_username("张三").is_ok());
        assert_eq!(check_username(""), Err(UsernameError::Empty));
        assert_eq!(check_username("a b"), Err(UsernameError::BadChar(' ')));
        assert_eq!(check_username("a/b"), Err(UsernameError::BadChar('/')));
        assert_eq!(check_username(&"a".repeat(65)), Err(UsernameError::TooLong));
        assert!(check_username(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn an_account_without_roles_is_only_signed_in() {
        let pending = user(&[], &[], None);
        assert!(pending.holds(Permission::Authenticated));
        assert!(pending.may(Permission::Authenticated, Target::Any));
        for p in [
            Permission::ViewOrganization,
            Permission::ViewUnit,
            Permission::ViewCadre,
            Permission::ManageAccounts,
            Permission::ManageRoles,
            Permission::ViewAudit,
        ] {
            assert!(!pending.holds(p), "{p:?}");
        }
    }

    #[test]
    fn password_policy() {
        let p = PasswordPolicy::default();
        assert_eq!(
            p.check("zhang", "Short1!"),
            Err(PasswordError::TooShort(12))
        );
        assert_eq!(
            p.check("zhang", "alllowercaseletters"),
            Err(PasswordError::TooFewClasses(3))
        );
        assert_eq!(
            p.check("zhang", "Zhang-2025-secret"),
            Err(PasswordError::ContainsUsername)
        );
        assert!(p.check("zhang", "Correct-Horse-42").is_ok());
        assert!(p.check("zhang", "考核系统密码Abc123").is_ok());
    }

    #[test]
    fn lockout_after_five_failures_for_fifteen_minutes() {
        let p = LockoutPolicy::default();
        assert_eq!(p.locked_until(4, Some(1000), 1001), None);
        assert_eq!(p.locked_until(5, Some(1000), 1001), Some(1900));
        assert_eq!(p.locked_until(5, Some(1000), 1899), Some(1900));
        assert_eq!(p.locked_until(5, Some(1000), 1900), None);
        assert_eq!(p.failures_after_failure(4, Some(1000), 1001), 5);
        assert_eq!(p.failures_after_failure(5, Some(1000), 2000), 1);
        assert!(session_expired(0, 600, DEFAULT_IDLE_TIMEOUT_SECONDS));
        assert!(!session_expired(0, 599, DEFAULT_IDLE_TIMEOUT_SECONDS));
    }

    #[test]
    fn scope_of_each_role() {
        let root = code("340000");
        let city = code("340100");
        let county = code("340102");
        let other = code("340103");
        let chain = [root.clone(), city.clone()];
        let unit = |c| Target::Unit {
            code: c,
            ancestors: &chain,
        };
        let assessor = user(&[Role::Assessor], &["340100"], None);
        assert!(assessor.may(Permission::ViewUnit, unit(&county)));
        assert!(assessor.may(Permission::ViewUnit, unit(&city)));
        assert!(!assessor.may(
            Permission::ViewUnit,
            Target::Unit {
                code: &root,
                ancestors: &[]
            }
        ));
        let leader = user(&[Role::UnitLeader], &["340102"], None);
        assert!(leader.may(Permission::ViewUnit, unit(&county)));
        assert!(!leader.may(Permission::ViewUnit, unit(&other)));
        let official = user(&[Role::Official], &[], Some("C1"));
        let c1 = code("C1");
        let c2 = code("C2");
        let cadre = |id| Target::Cadre {
            id,
            unit: &county,
            unit_ancestors: &chain,
        };
        assert!(official.may(Permission::ViewCadre, cadre(&c1)));
        assert!(!official.may(Permission::ViewCadre, cadre(&c2)));
        assert!(!official.may(Permission::ViewUnit, unit(&county)));
        assert!(leader.may(Permission::ViewCadre, cadre(&c2)));
        assert!(!assessor.sees_whole_organization(std::slice::from_ref(&root)));
        let province = user(&[Role::Assessor], &["340000"], None);
        assert!(province.sees_whole_organization(std::slice::from_ref(&root)));
        assert!(!leader.sees_whole_organization(&[]));
        let admin = user(&[Role::SystemAdmin], &["340000"], None);
        assert!(
            !admin.may(Permission::ViewUnit, unit(&county)),
            "no content"
        );
        assert!(admin.may(Permission::ManageAccounts, Target::Any));
        assert!(!Principal::Anonymous.holds(Permission::Authenticated));
        assert!(Principal::Anonymous.holds(Permission::Public));
    }

    #[test]
    fn administrators_see_no_assessment_content() {
        for role in Role::ADMINS {
            for p in [
                Permission::ViewOrganization,
                Permission::ViewUnit,
                Permission::ViewCadre,
                Permission::HandleRectification,
                Permission::ViewContact,
                Permission::ViewServiceFigures,
                Permission::DecideAppeal,
                Permission::ViewCycles,
                Permission::ManageCycles,
                Permission::DecideCommittee,
                Permission::FinalizeCycle,
                Permission::AmendResults,
                Permission::ViewOwnResults,
            ] {
                assert!(!role.grants(p), "{role:?} {p:?}");
            }
        }
        let holders = |p| Role::ALL.iter().filter(|r| r.grants(p)).count();
        assert_eq!(holders(Permission::ManageAccounts), 1);
        assert_eq!(holders(Permission::ManageRoles), 1);
        assert_eq!(holders(Permission::ViewAudit), 1);
    }

    #[test]
    fn service_systems_only_push_and_appeals_are_decided_by_others_than_filers() {
        for p in Permission::ALL {
            let pushes = p == Permission::PushServiceData;
            let baseline = matches!(p, Permission::Public | Permission::Authenticated);
            assert_eq!(Role::ServiceSystem.grants(p), pushes || baseline, "{p:?}");
        }
        for role in Role::ALL {
            assert!(
                !(role.grants(Permission::FileAppeal) && role.grants(Permission::DecideAppeal)),
                "{role:?} would judge its own appeal"
            );
        }
        let leader = user(&[Role::UnitLeader], &["341001"], None);
        let own = code("341001");
        let other = code("341002");
        let unit = |code| Target::Unit {
            code,
            ancestors: &[],
        };
        assert!(leader.may(Permission::HandleRectification, unit(&own)));
        assert!(!leader.may(Permission::HandleRectification, unit(&other)));
        assert!(leader.may(Permission::FileAppeal, unit(&own)));
        assert!(!leader.may(Permission::DecideAppeal, unit(&own)));
    }
}
