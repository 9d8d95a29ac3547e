//! The actions of the audit log (审计日志的操作类型): every action the system appends is named
//! here once, so that the audit screen can show each in words and a test can check that none
//! lacks them.

use crate::cycles::Action;

macro_rules! actions {
    ($($(#[$doc:meta])* $name:ident = $code:literal,)*) => {
        $($(#[$doc])* pub const $name: &str = $code;)*

        /// Every action, in the order above.
        pub const ALL: &[&str] = &[$($name),*];
    };
}

actions! {
    /// 登录.
    USER_LOGIN = "user.login",
    /// 登录失败.
    USER_LOGIN_FAILED = "user.login_failed",
    /// 退出.
    USER_LOGOUT = "user.logout",
    /// 新建账号.
    USER_CREATE = "user.create",
    /// 停用账号.
    USER_DISABLE = "user.disable",
    /// 启用账号.
    USER_ENABLE = "user.enable",
    /// 重置密码.
    USER_RESET = "user.reset",
    /// 修改密码.
    USER_PASSWORD = "user.password",
    /// 分配角色和范围.
    USER_ROLES = "user.roles",
    /// 身份确认失败.
    USER_REAUTH_FAILED = "user.reauth_failed",
    /// 启用动态验证码.
    USER_TOTP_ENROL = "user.totp_enrol",
    /// 移除动态验证码.
    USER_TOTP_REMOVE = "user.totp_remove",
    /// 重发动态验证码密钥.
    USER_TOTP_RESET = "user.totp_reset",
    /// 签发接口令牌.
    TOKEN_ISSUE = "token.issue",
    /// 吊销接口令牌.
    TOKEN_REVOKE = "token.revoke",
    /// 导出审计日志.
    AUDIT_EXPORT = "audit.export",
    /// 启动配置.
    SETTINGS_APPLIED = "settings.applied",
    /// 载入演示数据.
    DEMO_LOAD = "demo.load",
    /// 载入生成数据.
    GEN_LOAD = "gen.load",
    /// 导入单位.
    IMPORT_UNITS = "import.units",
    /// 导入干部.
    IMPORT_CADRES = "import.cadres",
    /// 导入任职.
    IMPORT_APPOINTMENTS = "import.appointments",
    /// 导入处分.
    IMPORT_SANCTIONS = "import.sanctions",
    /// 导入工作日历.
    IMPORT_CALENDAR = "import.calendar",
    /// 导入办件.
    IMPORT_SERVICE_CASES = "import.service_cases",
    /// 导入好差评.
    IMPORT_RATINGS = "import.ratings",
    /// 导出数据.
    EXPORT_ALL = "export.all",
    /// 导出含个人信息的数据.
    EXPORT_PERSONAL_DATA = "export.personal_data",
    /// 接入办件.
    CASES_PUSH = "cases.push",
    /// 查看评价人联系方式.
    CONTACT_VIEW = "contact.view",
    /// 好差评批次封存.
    RATINGS_SEAL = "ratings.seal",
    /// 导出好差评统计.
    RATINGS_FIGURES = "ratings.figures",
    /// 差评整改步骤.
    RECTIFICATION_STEP = "rectification.step",
    /// 整改步骤封存.
    RECTIFICATION_STEPS_SEAL = "rectification.steps_seal",
    /// 差评整改逾期督办.
    RECTIFICATION_ESCALATED = "rectification.escalated",
    /// 提出申诉.
    APPEAL_FILE = "appeal.file",
    /// 申诉复核决定.
    APPEAL_DECIDE = "appeal.decide",
    /// 指标体系入库.
    FRAMEWORK_STORED = "framework.stored",
    /// 新建考核周期.
    CYCLE_CREATED = "cycle.created",
    /// 开始采集.
    CYCLE_OPEN = "cycle.open",
    /// 导入考核数据.
    CYCLE_IMPORT_VALUES = "cycle.import_values",
    /// 采集数据.
    CYCLE_GATHERED = "cycle.gathered",
    /// 计算.
    CYCLE_COMPUTE = "cycle.compute",
    /// 提交委员会审议.
    CYCLE_SUBMIT_REVIEW = "cycle.submit_review",
    /// 考核委员会决定.
    CYCLE_DECIDE = "cycle.decide",
    /// 定稿.
    CYCLE_FINALIZE = "cycle.finalize",
    /// 更正.
    CYCLE_AMEND = "cycle.amend",
    /// 更正数值.
    CYCLE_AMENDMENT_VALUES = "cycle.amendment_values",
    /// 平时考核评价.
    CYCLE_JUDGE = "cycle.judge",
    /// 记录纪实.
    RECORD_ADD = "record.add",
    /// 更正纪实.
    RECORD_AMEND = "record.amend",
    /// 核实纪实.
    RECORD_REVIEW = "record.review",
    /// 载入纪实.
    RECORD_LOAD = "record.load",
    /// 新建民主测评.
    POLL_CREATE = "poll.create",
    /// 生成测评码.
    POLL_CODES = "poll.codes",
    /// 结束测评.
    POLL_CLOSE = "poll.close",
    /// 录入纸质票.
    POLL_PAPER = "poll.paper",
    /// 复核纸质票.
    POLL_PAPER_CONFIRM = "poll.paper_confirm",
}

/// The action of a step of a cycle's life.
pub fn of_cycle(action: Action) -> &'static str {
    match action {
        Action::Open => CYCLE_OPEN,
        Action::ImportValues => CYCLE_IMPORT_VALUES,
        Action::Compute => CYCLE_COMPUTE,
        Action::SubmitReview => CYCLE_SUBMIT_REVIEW,
        Action::Decide => CYCLE_DECIDE,
        Action::Finalize => CYCLE_FINALIZE,
        Action::Amend => CYCLE_AMEND,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Labeled;
    use std::collections::HashSet;

    #[test]
    fn actions_are_distinct_dotted_codes_and_cover_every_cycle_step() {
        let codes: HashSet<&str> = ALL.iter().copied().collect();
        assert_eq!(codes.len(), ALL.len(), "an action named twice");
        for code in ALL {
            let (area, what) = code.split_once('.').expect("dotted");
            assert!(
                !area.is_empty()
                    && !what.is_empty()
                    && code
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'),
                "{code}"
            );
        }
        for action in Action::ALL {
            assert_eq!(of_cycle(*action), format!("cycle.{}", action.code()));
            assert!(codes.contains(of_cycle(*action)));
        }
    }
}
