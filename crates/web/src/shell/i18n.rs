//! Languages of the pages: Chinese (the default) and English.
//!
//! Every text a page shows comes from [`MESSAGES`], looked up by key with [`t`]; labels of
//! domain enumerations come from [`kaohe_domain::Labeled`]. A request's language is, in order:
//! the `lang` query parameter, the `lang` cookie (set by `/lang/{lang}`), the `Accept-Language`
//! header, and otherwise Chinese.

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};

/// Name of the cookie and of the query parameter that choose the language.
pub const LANG_PARAM: &str = "lang";

/// A language of the user interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Lang {
    /// 中文 (simplified), the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// Every language, in the order of the language switch.
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

    /// Short code, as in `?lang=en`; also what [`kaohe_domain::Labeled::label`] takes.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The tag for `<html lang="…">`.
    pub fn html_tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The language's name in itself, for the language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Zh => "中文",
            Lang::En => "English",
        }
    }

    /// Parses a code or a language tag: `zh`, `zh-CN`, `zh-Hans`, `en`, `en-US`, ….
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("zh") {
            Some(Lang::Zh)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language an `Accept-Language` header prefers among ours: the highest quality wins,
    /// the earlier one on a tie; `None` when it names neither.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(Lang, f32)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((lang, quality));
            }
        }
        best.map(|(lang, _)| lang)
    }

    /// The language of a request: `query_lang` (the `lang` query parameter), then the `lang`
    /// cookie, then `Accept-Language`, then Chinese.
    pub fn negotiate(query_lang: Option<&str>, headers: &HeaderMap) -> Lang {
        query_lang
            .and_then(Lang::parse)
            .or_else(|| cookie(headers, LANG_PARAM).and_then(Lang::parse))
            .or_else(|| {
                headers
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or_default()
    }
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// One message of the user interface in both languages.
#[derive(Debug, Clone, Copy)]
pub struct Message {
    /// Key, as templates and handlers name it.
    pub key: &'static str,
    /// Chinese.
    pub zh: &'static str,
    /// English.
    pub en: &'static str,
}

macro_rules! messages {
    ($( $key:literal => $zh:literal, $en:literal; )*) => {
        /// Every message of the user interface. `{name}` marks a placeholder filled by
        /// [`format`].
        pub static MESSAGES: &[Message] = &[ $( Message { key: $key, zh: $zh, en: $en } ),* ];
    };
}

messages! {
    "app.name" => "kaohe 考核", "kaohe";
    "app.tagline" => "干部考核评价系统", "Performance assessment of public officials";
    "app.skip" => "跳到正文", "Skip to content";
    "nav.label" => "主导航", "Main navigation";
    "nav.home" => "首页", "Home";
    "nav.units" => "单位", "Units";
    "nav.cadres" => "干部", "Cadres";
    "nav.calendar" => "工作日历", "Calendar";
    "nav.api" => "API 文档", "API docs";
    "lang.switch" => "语言", "Language";
    "demo.banner" => "演示数据：本站数据均为虚构，仅供演示。", "Demo data: everything shown here is fictitious.";
    "footer.about" => "kaohe 是开源、自主部署的干部考核评价系统。", "kaohe is an open-source, self-hosted system for assessing the performance of public officials.";
    "footer.license" => "以 Apache-2.0 许可发布", "Released under the Apache-2.0 license";
    "home.title" => "首页", "Home";
    "home.intro" => "kaohe 把正确政绩观落到可审计的考核流程中：单位与干部档案、平时考核与年度考核、民主测评、群众“好差评”，每个分数都能说明来源与依据。", "kaohe turns a sound view of performance into an auditable assessment process: organization and cadre records, routine and annual assessments, democratic evaluation and public ratings of services, with every score traceable to its sources and rules.";
    "home.counts" => "数据概览", "At a glance";
    "home.units" => "单位", "Units";
    "home.cadres" => "干部", "Cadres";
    "home.leaders" => "领导班子成员", "Leadership team members";
    "home.sanctions" => "处分记录", "Sanctions";
    "home.links" => "从这里开始", "Start here";
    "home.top_units" => "单位概览", "Units at a glance";
    "home.all_units" => "全部单位 →", "All units →";
    "home.link.units" => "浏览单位及其领导班子", "Browse units and their leadership teams";
    "home.link.cadres" => "查找干部及其任职经历", "Find cadres and their appointment history";
    "home.link.calendar" => "查看工作日历、计算工作日期限", "See the working-day calendar and count deadlines";
    "home.link.api" => "查看 JSON 接口文档", "Read the JSON API documentation";
    "home.to_verify" => "{n} 条纪实待您核实", "{n} work records await your verification";
    "home.escalated" => "{n} 件差评整改逾期已督办", "{n} overdue bad-review rectifications escalated to you";
    "search.q" => "搜索", "Search";
    "search.submit" => "查询", "Search";
    "search.reset" => "清除", "Clear";
    "search.any" => "全部", "All";
    "units.title" => "单位", "Units";
    "units.q.placeholder" => "编码或名称", "Code or name";
    "units.kind" => "类型", "Kind";
    "units.parent_filter" => "上级单位", "Parent unit";
    "units.empty" => "没有符合条件的单位。", "No units match.";
    "units.caption" => "单位列表", "List of units";
    "col.code" => "编码", "Code";
    "col.name" => "名称", "Name";
    "col.kind" => "类型", "Kind";
    "col.parent" => "上级单位", "Parent unit";
    "col.cadres" => "干部数", "Cadres";
    "col.leaders" => "班子成员", "Leaders";
    "col.id" => "编号", "ID";
    "col.full_name" => "姓名", "Name";
    "col.gender" => "性别", "Gender";
    "col.unit" => "单位", "Unit";
    "col.post" => "职务", "Post";
    "col.rank" => "职务职级", "Post and rank level";
    "col.leader" => "班子成员", "Leader";
    "col.status" => "状态", "Status";
    "col.start" => "起始日期", "From";
    "col.end" => "截止日期", "To";
    "col.kind_sanction" => "处分种类", "Kind";
    "col.period_end" => "处分期至", "Period ends";
    "col.in_effect" => "今日是否在处分期内", "In effect today";
    "col.reason" => "事由", "Reason";
    "col.date" => "日期", "Date";
    "col.weekday" => "星期", "Weekday";
    "col.day_kind" => "安排", "Arrangement";
    "col.holiday" => "节日", "Holiday";
    "unit.breadcrumb" => "上级单位路径", "Parent units";
    "unit.details" => "基本信息", "Details";
    "unit.children" => "下级单位", "Subordinate units";
    "unit.children.none" => "没有下级单位。", "No subordinate units.";
    "unit.children.all" => "查看全部下级单位", "All subordinate units";
    "unit.team" => "领导班子", "Leadership team";
    "unit.team.none" => "尚无领导班子成员记录。", "No leadership team members on record.";
    "unit.cadres" => "本单位干部", "Cadres of this unit";
    "unit.cadres.none" => "本单位尚无干部记录。", "No cadres on record.";
    "unit.root" => "（无，顶级单位）", "(none: top-level unit)";
    "cadres.title" => "干部", "Cadres";
    "cadres.q.placeholder" => "编号、姓名或职务", "ID, name or post";
    "cadres.unit_filter" => "单位编码", "Unit code";
    "cadres.leaders_only" => "只看领导班子成员", "Leadership team members only";
    "cadres.empty" => "没有符合条件的干部。", "No cadres match.";
    "cadres.caption" => "干部列表", "List of cadres";
    "cadre.details" => "基本信息", "Details";
    "cadre.ethnicity" => "民族", "Ethnicity";
    "cadre.birth_date" => "出生日期", "Date of birth";
    "cadre.appointments" => "任职经历", "Appointment history";
    "cadre.appointments.none" => "没有任职经历记录。", "No appointment history on record.";
    "cadre.current" => "至今", "present";
    "cadre.sanctions" => "处分", "Sanctions";
    "cadre.sanctions.none" => "没有处分记录。", "No sanctions on record.";
    "cadre.no_end" => "无期限", "no end";
    "yes" => "是", "Yes";
    "no" => "否", "No";
    "calendar.title" => "工作日历", "Working-day calendar";
    "calendar.intro" => "周一至周五为工作日，周六、周日休息；下表列出法定节假日和调休安排，整改、公示、复核、申诉等期限都按此日历计算。", "Monday to Friday are working days and weekends are rest days, except for the public holidays and make-up working days listed below. Deadlines of rectification, public notice, review and complaint are counted on this calendar.";
    "calendar.none" => "尚未导入节假日安排。", "No holiday arrangements imported yet.";
    "calendar.year" => "{year} 年", "{year}";
    "calendar.count" => "计算工作日期限", "Count working days";
    "calendar.from" => "起始日期", "Start date";
    "calendar.days" => "工作日数", "Working days";
    "calendar.submit" => "计算", "Count";
    "calendar.result" => "{from} 之后第 {days} 个工作日是 {due}（{weekday}）。", "Counting {days} working days from {from} gives {due} ({weekday}).";
    "calendar.out_of_range" => "日期超出可计算的范围。", "The date is out of the supported range.";
    "pager.label" => "分页", "Pages";
    "pager.prev" => "上一页", "Previous";
    "pager.next" => "下一页", "Next";
    "pager.page_of" => "第 {page} 页，共 {pages} 页（{total} 条）", "Page {page} of {pages} ({total} rows)";
    "error.not_found.title" => "页面不存在", "Page not found";
    "error.not_found.text" => "您要找的页面或记录不存在。", "The page or record you asked for does not exist.";
    "error.bad_request.title" => "请求参数有误", "Invalid request";
    "error.bad_request.text" => "参数 {param} 无效：{reason}", "Parameter {param} is invalid: {reason}";
    "error.forbidden.title" => "无权访问", "Access denied";
    "error.forbidden.text" => "您的账号无权查看此页面。", "Your account may not see this page.";
    "login.title" => "登录", "Sign in";
    "login.username" => "用户名", "User name";
    "login.password" => "密码", "Password";
    "login.totp" => "动态验证码（管理员必填）", "One-time code (required for administrators)";
    "login.submit" => "登录", "Sign in";
    "login.failed" => "用户名、密码或验证码错误。", "Wrong user name, password or code.";
    "login.locked" => "登录失败次数过多，账号已暂时锁定，请稍后再试。", "Too many failed attempts: the account is locked for a while.";
    "login.rate_limited" => "尝试过于频繁，请稍后再试。", "Too many attempts; try again later.";
    "admin.users.title" => "账号管理", "Accounts";
    "nav.accounts" => "账号管理", "Accounts";
    "nav.audit" => "审计日志", "Audit log";
    "nav.frameworks" => "指标体系", "Frameworks";
    "frameworks.title" => "考核指标体系", "Indicator frameworks";
    "frameworks.intro" => "考核指标体系：入库的版本（考核周期使用它们）和内置预设。每个指标的方向、标准化方法、缺失值处理和有效权重都公开可查。", "Indicator frameworks: the stored versions (which cycles use) and the built-in presets. Every indicator's direction, normalization, missing-value rule and effective weight is open to inspection.";
    "frameworks.name" => "名称", "Name";
    "frameworks.id" => "标识", "Id";
    "frameworks.dimensions" => "维度数", "Dimensions";
    "frameworks.indicators" => "指标数", "Indicators";
    "framework.version" => "版本", "Version";
    "framework.sources" => "依据", "Sources";
    "framework.dimension" => "维度", "Dimension";
    "framework.indicator" => "指标", "Indicator";
    "framework.unit" => "单位", "Unit";
    "framework.direction" => "方向", "Direction";
    "framework.method" => "标准化", "Normalization";
    "framework.veto" => "一票否决", "Veto";
    "framework.weight" => "有效权重 %", "Effective weight %";
    "framework.positive" => "正向", "Positive";
    "framework.negative" => "反向", "Negative";
    "framework.file" => "框架文件（TOML）", "Framework file (TOML)";
    "framework.check" => "用 kaohe framework check 校验自定义文件，用 kaohe assess 计算结果。", "Check your own file with kaohe framework check; compute results with kaohe assess.";
    "audit.title" => "审计日志", "Audit log";
    "audit.intro" => "每一项重要变更都按顺序记入哈希链。校验会逐条重算哈希，指出被修改、删除或调换的记录。", "Every change of consequence is appended to a hash chain. Verification recomputes every hash and names any edited, removed or reordered entry.";
    "audit.action" => "操作类型（前缀）", "Action (prefix)";
    "audit.filter" => "筛选", "Filter";
    "audit.verify" => "校验哈希链", "Verify the chain";
    "audit.ok" => "校验通过：共 {count} 条记录，链头 {head}。", "Verified: {count} entries, head {head}.";
    "audit.unchecked" => "校验期间新增 {n} 条记录，未纳入本次校验。", "{n} entries appended while verifying were not checked.";
    "audit.failed" => "校验未通过：", "Verification failed:";
    "audit.head_hint" => "请把链头记录在系统之外（如纸质台账），下次用 kaohe audit verify --expect-head 核对。", "Record the head outside the system (e.g. a paper register) and check it next time with kaohe audit verify --expect-head.";
    "audit.seq" => "序号", "Seq";
    "audit.at" => "时间", "Time";
    "audit.actor" => "操作人", "Actor";
    "audit.target" => "对象", "Target";
    "audit.details" => "内容", "Details";
    "audit.empty" => "没有符合条件的记录。", "No matching entries.";
    "admin.users.intro" => "系统管理员在此新建账号、重置密码、停用和启用账号。新账号没有角色，由安全管理员分配角色和范围（三员分立）。", "The system administrator creates accounts, resets passwords, and disables and enables accounts here. A new account has no role: the security administrator assigns roles and scopes (separation of the three administrator roles).";
    "admin.users.name" => "姓名", "Name";
    "admin.users.roles" => "角色", "Roles";
    "admin.users.scope" => "范围", "Scope";
    "admin.users.totp" => "动态验证码", "One-time codes";
    "admin.users.status" => "状态", "Status";
    "admin.users.active" => "正常", "Active";
    "admin.users.disabled" => "已停用", "Disabled";
    "admin.users.failures" => "登录失败 {n} 次", "{n} failed logins";
    "nav.login" => "登录", "Sign in";
    "nav.logout" => "退出", "Sign out";
    "error.internal.title" => "服务器内部错误", "Internal server error";
    "error.internal.text" => "处理请求时出错，原因已记录在服务器日志中。", "The request failed; the cause has been logged on the server.";
    "error.home" => "返回首页", "Back to the home page";
    "weekday.1" => "星期一", "Monday";
    "weekday.2" => "星期二", "Tuesday";
    "weekday.3" => "星期三", "Wednesday";
    "weekday.4" => "星期四", "Thursday";
    "weekday.5" => "星期五", "Friday";
    "weekday.6" => "星期六", "Saturday";
    "weekday.7" => "星期日", "Sunday";
    "error.refused.title" => "无法办理", "Request refused";
    "error.rate_limited.title" => "操作过于频繁", "Too many requests";
    "error.rate_limited.text" => "请稍后再试。", "Please try again in a minute.";
    "nav.ratings" => "好差评", "Ratings";
    "nav.appeals" => "申诉复核", "Appeals";
    "nav.record_new" => "记录纪实", "Record a fact";
    "nav.record_queue" => "纪实核实", "Verify records";
    "nav.my_records" => "我的纪实", "My records";
    "rec.cadre_link" => "全程纪实", "Work records";
    "rec.cadre_name" => "{name}（{id}）", "{name} ({id})";
    "rec.framework_version" => "{name}（{version}）", "{name} ({version})";
    "rec.pick_hint" => "可输入编号或姓名从列表中选择", "Type an id or a name to pick from the list";
    "rec.back_cadre" => "干部信息", "Cadre";
    "rec.recorded_by" => "{who} 记录于 {at}", "Recorded by {who} at {at}";
    "rec.reviewed_by" => "{verdict}：{who}，{at}", "{verdict} by {who} at {at}";
    "rec.colon" => "：", ": ";
    "rec.amends" => "更正第 {id} 号纪实，理由：{reason}", "Corrects record {id}; reason: {reason}";
    "rec.corrected_by" => "已由第 {id} 号纪实更正", "Corrected by record {id}";
    "rec.indicator_option" => "{name}（每条 {min}–{max} 分；{kinds}）", "{name} ({min}–{max} points each; {kinds})";
    "rec.f.cadre" => "干部编号", "Cadre id";
    "rec.f.date" => "日期", "Date";
    "rec.f.indicator" => "指标", "Indicator";
    "rec.f.kind" => "类别", "Kind";
    "rec.f.points" => "分值", "Points";
    "rec.f.source" => "来源", "Source";
    "rec.f.description" => "事实描述", "Description of the fact";
    "rec.f.files" => "证据文件", "Evidence files";
    "rec.f.reason" => "理由", "Reason";
    "rec.f.form" => "表单", "Form";
    "rec.f.verdict" => "核实结论", "Verdict";
    "rec.err.cadre" => "没有这名干部，请核对干部编号", "No such cadre; check the id";
    "rec.err.cadre_scope" => "该干部不在您的工作范围内", "This cadre is outside your scope";
    "rec.err.date" => "请按 年-月-日 填写日期", "Enter the date as YYYY-MM-DD";
    "rec.err.future" => "日期不能晚于今天", "The date cannot be after today";
    "rec.err.indicator" => "请选择一个可记录纪实的指标", "Choose an indicator that takes records";
    "rec.err.kind" => "请选择正向或反向", "Choose positive or negative";
    "rec.err.kind_of_indicator" => "该指标不接受这一类别的纪实", "This indicator takes no records of this kind";
    "rec.err.points" => "请填写大于 0 的分值", "Enter points greater than 0";
    "rec.err.points_range" => "分值超出该指标允许的范围", "The points are outside the indicator's range";
    "rec.err.source" => "请选择来源", "Choose a source";
    "rec.err.description" => "请填写事实描述", "Describe the fact";
    "rec.err.long" => "内容过长", "Too long";
    "rec.err.character" => "含有不允许的控制字符或不可见字符", "Contains a control or invisible character";
    "rec.err.reason" => "请填写理由", "Give a reason";
    "rec.err.file" => "证据文件不被接受：仅限 PDF、PNG、JPEG、DOCX、XLSX，且不超过大小上限", "Evidence file refused: PDF, PNG, JPEG, DOCX or XLSX only, within the size limit";
    "rec.err.reviewed" => "该纪实已经核实或驳回过", "This record has been reviewed already";
    "rec.err.not_amendable" => "只有待核实或已核实的纪实可以更正", "Only a pending or verified record can be corrected";
    "rec.err.verdict" => "请选择核实或驳回", "Choose verify or reject";
    "cycle.four_eyes" => "双人复核：本次结果由您计算，委员会决定和定稿须由另一名考核人员作出。", "Four eyes: you computed this result; another assessor must take the committee's decisions and finalize it.";
    "rec.four_eyes" => "这条纪实是您本人记录的，须由另一名考核人员核实或驳回（双人复核）。", "You recorded this fact: another assessor must verify or reject it (four eyes).";
    "rec.timeline_of" => "{name}（{id}）的全程纪实", "Work records of {name} ({id})";
    "rec.my_title" => "我的全程纪实", "My work records";
    "rec.timeline_intro" => "按事实日期由近及远排列。只有已核实且未被更正的纪实计入考核；纪实不删除、不修改，更正另行记录并注明理由。", "Newest fact first. Only verified records that no amendment corrects count; records are never deleted or changed, a correction is a new record with its reason.";
    "rec.new" => "记录纪实", "Record a fact";
    "rec.none" => "暂无纪实。", "No records yet.";
    "rec.number" => "纪实 #", "Record #";
    "rec.queue_title" => "待核实的纪实", "Records to verify";
    "rec.queue_intro" => "您工作范围内干部的待核实纪实。核实后计入考核；驳回须说明理由。", "Records of the officials in your scope awaiting verification. A verified record counts; a rejection needs a reason.";
    "rec.queue_empty" => "没有待核实的纪实。", "Nothing awaits verification.";
    "rec.verify" => "核实", "Verify";
    "rec.reject" => "驳回", "Reject";
    "rec.reject_reason" => "驳回理由", "Reason for rejecting";
    "rec.new_title" => "记录纪实", "Record a fact";
    "rec.new_intro" => "记录干部工作中的具体事实，可附现场照片或材料；提交后由另一名考核人员核实。", "Record a concrete fact of an official's work, with photos or documents; another assessor verifies it.";
    "rec.choose" => "请选择", "Choose";
    "rec.files_hint" => "可多选，手机上可直接拍照。PDF、图片（PNG、JPEG）、DOCX、XLSX，单个不超过 {size}。", "Several allowed; a phone can take a photo. PDF, images (PNG, JPEG), DOCX, XLSX, each at most {size}.";
    "rec.submit" => "提交", "Submit";
    "rec.original" => "被更正的纪实", "The record it corrects";
    "rec.history" => "记录经过", "History";
    "rec.review_title" => "核实", "Verification";
    "rec.amend_title" => "更正", "Correct";
    "rec.amend_intro" => "更正不修改原纪实：将新增一条注明理由的纪实，核实后代替原纪实计入。", "A correction leaves the record as it is: a new record with the reason is added and, once verified, counts instead.";
    "rec.amendment_pending" => "这条纪实的更正正在等待核实，核实或驳回后才能再次更正。", "A correction of this record awaits verification; it can be corrected again once that is reviewed.";
    "rec.amend_submit" => "提交更正", "Submit the correction";
    "rec.import_title" => "导入纪实", "Import records";
    "rec.import_intro" => "上传 CSV 或 XLSX 文件：全部无误才导入，有任何错误则一条也不导入。列名可用中文或英文。", "Upload a CSV or XLSX file: every row is imported or none is. Headers in Chinese or English.";
    "rec.import.problem" => "第 {row} 行，“{column}”列：{why}", "Row {row}, column \"{column}\": {why}";
    "rec.import.refused" => "文件未导入，请改正以下问题：", "Nothing was imported; correct these problems:";
    "rec.import.no_file" => "请选择要上传的文件", "Choose a file to upload";
    "rec.import.bad_type" => "文件 {file} 不是 CSV 或 XLSX 文件", "The file {file} is not a CSV or XLSX file";
    "rec.import.missing_column" => "缺少此列", "this column is missing";
    "rec.import.empty" => "文件中没有纪实", "The file holds no records";
    "rec.import.done" => "已导入，等待核实的纪实条数：", "Imported; records awaiting verification: ";
    "rec.import.file" => "文件（CSV 或 XLSX）", "File (CSV or XLSX)";
    "rec.import.submit" => "导入", "Import";
    "rec.import.columns" => "文件的列", "Columns of the file";
    "rec.export" => "导出 CSV", "Export CSV";
    "rec.export_xlsx" => "导出 XLSX", "Export XLSX";
    "rec.export_name" => "全程纪实", "records";
    "rec.col.id" => "纪实编号", "record";
    "rec.col.cadre" => "干部编号", "cadre";
    "rec.col.name" => "姓名", "name";
    "rec.col.unit" => "单位代码", "unit";
    "rec.col.date" => "日期", "date";
    "rec.col.kind" => "类别", "kind";
    "rec.col.framework" => "指标体系", "framework";
    "rec.col.indicator" => "指标", "indicator";
    "rec.col.indicator_name" => "指标名称", "indicator name";
    "rec.col.points" => "分值", "points";
    "rec.col.source" => "来源", "source";
    "rec.col.description" => "事实描述", "description";
    "rec.col.state" => "状态", "state";
    "rec.col.recorded_by" => "记录人", "recorded by";
    "rec.col.reviewed_by" => "核实人", "reviewed by";
    "rec.col.review_reason" => "核实意见", "review reason";
    "rec.col.amends" => "更正的纪实编号", "corrects record";
    "rec.col.amend_reason" => "更正理由", "reason of the correction";
    "rate.title" => "政务服务评价", "Rate this service";
    "rate.case" => "办件", "Service case";
    "rate.closed" => "办结时间", "Closed";
    "rate.level" => "请您评价（必选）", "Your rating (required)";
    "rate.tags" => "评价原因（可多选）", "Reasons (any)";
    "rate.comment" => "意见建议（选填）", "Comments (optional)";
    "rate.real_name" => "实名评价，同意工作人员回访", "Rate under my name; I agree to be called back";
    "rate.contact" => "回访电话（选填，默认为办件预留电话）", "Phone for the callback (optional; the case's phone by default)";
    "rate.privacy" => "您的电话仅用于回访，对办事人员隐藏显示。评价自愿，任何人不得强迫或诱导评价。", "Your phone is used only for the callback and is hidden from staff. Rating is voluntary: nobody may press you to rate.";
    "rate.submit" => "提交评价", "Submit";
    "rate.choose_level" => "请选择一个评价等级。", "Please choose a level.";
    "rate.bad_phone" => "回访电话格式不正确：请填写 5 至 20 位数字。", "The phone number is not valid: 5 to 20 digits.";
    "rate.need_phone" => "实名评价需要留下回访电话。", "A rating under your name needs a phone for the callback.";
    "rate.thanks" => "感谢您的评价！", "Thank you for your rating!";
    "rate.thanks_bad" => "感谢您的评价。我们将在 {n} 个工作日内核实整改并回访。", "Thank you. We will look into it and call you back within {n} working days.";
    "rate.already" => "该办件已评价，每个办件只能评价一次。", "This case has been rated already: one rating per case.";
    "rate.window_closed" => "该办件已超过评价期限。", "The rating period of this case is over.";
    "rect.title" => "差评整改", "Bad-review rectification";
    "rect.intro" => "每条差评须在期限内核实、整改或解释说明、回访并由评价人评价整改结果；逾期的整改向单位领导和考核人员督办。", "Every bad review is verified, rectified or explained, called back and judged by the rater within its deadline; overdue ones are escalated to the unit's leader and the assessor.";
    "rect.show_all" => "显示全部（含已办结）", "Show all, closed included";
    "rect.show_open" => "只显示未办结", "Show open only";
    "rect.overdue_count" => "{n} 件整改已逾期，正在督办。", "{n} rectifications are overdue and escalated.";
    "rect.empty" => "没有需要处理的整改。", "Nothing to rectify.";
    "rect.case" => "办件", "Case";
    "rect.item" => "事项", "Service item";
    "rect.level" => "评价等级", "Level";
    "rect.opened" => "差评日期", "Reviewed";
    "rect.deadline" => "整改期限", "Deadline";
    "rect.status" => "状态", "Status";
    "rect.days_left" => "剩 {n} 个工作日", "{n} working days left";
    "rect.overdue_by" => "逾期 {n} 个工作日·督办", "{n} working days overdue · escalated";
    "rect.real_name" => "实名", "Real name";
    "rect.excluded" => "申诉成立·不计入", "Appeal upheld · not counted";
    "rect.excluded_note" => "申诉成立：该评价保留，但不计入满意度等统计。", "Appeal upheld: the review is kept but not counted in the figures.";
    "rect.case_data" => "办件信息", "The case";
    "rect.officials" => "经办人", "Handled by";
    "rect.channel" => "办理渠道", "Channel";
    "rect.accepted" => "受理时间", "Accepted";
    "rect.applicant" => "申请人", "Applicant";
    "rect.rating" => "评价", "The rating";
    "rect.rated_at" => "评价时间", "Rated";
    "rect.reveal" => "查看完整电话以回访（将记入审计日志）", "Show the full number for the callback (recorded in the audit log)";
    "rect.history" => "办理记录", "History";
    "rect.no_steps" => "尚未处理。", "Nothing done yet.";
    "rect.next" => "下一步", "Next step";
    "rect.step" => "步骤", "Step";
    "rect.note" => "情况说明", "Note";
    "rect.reached" => "已联系到评价人", "The rater was reached";
    "rect.verdict" => "评价人对整改的评价", "Rater's verdict on the fix";
    "rect.not_reached" => "未联系上", "Not reached";
    "rect.on" => "日期", "Date";
    "rect.record" => "记录", "Record";
    "rect.concurrent" => "他人刚刚记录了一个步骤，请查看后重试。", "Someone else has just recorded a step; check and try again.";
    "rect.escalated" => "已督办", "Escalated";
    "rect.escalated_to" => "督办单位领导 {leaders}、考核人员 {assessors}（逾期后首个工作日 {due}）", "to the unit leader {leaders} and the assessors {assessors} (first working day after the deadline: {due})";
    "rect.nobody" => "（无账号）", "(no account)";
    "contact.title" => "回访联系方式", "Callback contact";
    "contact.audited" => "本次查看已记入审计日志。联系方式仅用于回访，不得他用。", "This view has been recorded in the audit log. Use the numbers only for the callback.";
    "contact.phone" => "办件预留电话", "Phone given with the case";
    "contact.rater" => "评价人留下的电话", "Phone left by the rater";
    "appeal.title" => "申诉复核", "Appeal";
    "appeal.list_title" => "差评申诉复核", "Appeals against reviews";
    "appeal.intro" => "单位可对误评、恶意差评申诉并提供证据；考核人员复核后作出结论。申诉成立的评价不删除，只是不计入统计。", "A unit may appeal a mistaken or malicious review with evidence; an assessor decides. An upheld review is never deleted, only left out of the figures.";
    "appeal.pending_list" => "待复核", "Pending";
    "appeal.decided_list" => "已复核", "Decided";
    "appeal.empty" => "无。", "None.";
    "appeal.none" => "未申诉。", "Not appealed.";
    "appeal.ground" => "申诉理由", "Ground";
    "appeal.evidence" => "证据与说明", "Evidence";
    "appeal.filed" => "申诉人", "Filed by";
    "appeal.decision" => "复核结论", "Decision";
    "appeal.reason" => "理由", "Reason";
    "appeal.pending" => "待复核", "Pending";
    "appeal.file" => "提出申诉", "File the appeal";
    "appeal.attachment" => "证据文件（选填，PDF、PNG 或 JPEG，不超过 5 MB）", "Evidence file (optional; PDF, PNG or JPEG, at most 5 MB)";
    "appeal.decide" => "作出结论", "Decide";
    "appeal.exists" => "该评价已申诉过。", "This review has been appealed already.";
    "appeal.four_eyes" => "双人复核：申诉的提出人和经办该整改的人员不能决定该申诉，请由其他考核人员决定。", "Four eyes: whoever filed the appeal or worked the rectification may not decide it; another assessor must.";
    "appeal.not_pending" => "该申诉已作出结论。", "This appeal has been decided already.";
    "figures.title" => "满意度统计", "Satisfaction figures";
    "rate.window" => "窗口", "Window";
    "rate.window_intro" => "请输入回执上的办件编号和办件预留电话的后四位，进入该办件的评价页。", "Enter the case number on your receipt and the last four digits of the phone you gave, to rate that case.";
    "rate.case_id" => "办件编号", "Case number";
    "rate.phone_last4" => "预留电话后四位", "Last four digits of your phone";
    "rate.find_case" => "去评价", "Rate it";
    "rate.window_no_case" => "没有找到与本窗口匹配的办件，请核对办件编号和电话后四位。", "No case of this window matches; check the case number and the last four digits.";
    "qr.title" => "评价二维码", "Rating QR codes";
    "qr.intro" => "每个服务窗口一张二维码，打印后放在窗口；每个办件的二维码由业务系统打印在回执上（/rate/办件评价码/qr.png）。", "One QR code per service window, to print and put on the counter; each case's own code is printed on its receipt by the service system (/rate/CODE/qr.png).";
    "qr.none" => "范围内没有服务窗口。", "No service windows in scope.";
    "qr.cases" => "办件数", "Cases";
    "qr.open" => "打开", "Open";
    "figures.intro" => "满意率 = 非常满意、满意、基本满意的评价数 / 评价数；排序使用向总体满意率收缩后的满意率及其 95% 区间，少量评价不会压过大量评价。", "Satisfaction rate = ratings at 3–5 / ratings. Rankings use the rate shrunk toward the overall rate, with its 95% interval, so that a few ratings do not outrank many.";
    "figures.by" => "分组", "Group by";
    "figures.by.unit" => "单位", "Unit";
    "figures.by.official" => "经办人", "Official";
    "figures.by.window" => "窗口", "Window";
    "figures.by.item" => "事项", "Service item";
    "figures.to" => "至", "To";
    "figures.summary" => "共 {n} 条评价，满意率 {rate}。", "{n} ratings, satisfaction rate {rate}.";
    "figures.empty" => "该期间没有评价。", "No ratings in this period.";
    "figures.chart" => "收缩后的满意率及 95% 区间", "Shrunk satisfaction rate with 95% interval";
    "figures.ratings" => "评价数", "Ratings";
    "figures.excluded" => "不计入", "Excluded";
    "figures.satisfaction" => "满意率", "Satisfaction";
    "figures.shrunk" => "排序用满意率", "Shrunk";
    "figures.bad" => "差评率", "Bad reviews";
    "figures.rectified" => "整改率", "Rectified";
    "figures.on_time" => "按时整改率", "On time";
    "figures.callback" => "回访率", "Called back";
    "figures.flagged" => "待核查的异常评价", "Suspicious ratings to review";
    "figures.none_flagged" => "未发现异常。", "Nothing suspicious.";
    // Account management (#3): system administrator, security administrator, self service.
    "nav.roles" => "角色分配", "Roles";
    "nav.account" => "我的账号", "My account";
    "admin.users.no_roles" => "待分配角色", "Waiting for roles";
    "admin.users.must_change" => "须修改密码", "Must change password";
    "admin.users.done.created" => "账号已创建。请将初始密码当面或经安全渠道交给本人；首次登录须修改密码。请安全管理员分配角色。", "Account created. Hand the initial password over in person or through a safe channel; it must be changed at the first sign-in. Ask the security administrator to assign roles.";
    "admin.users.done.reset" => "密码已重置，该账号的会话已结束，下次登录须修改密码。", "Password reset: the account's sessions ended and the password must be changed at the next sign-in.";
    "admin.users.done.disabled" => "账号已停用，其会话已结束。", "Account disabled; its sessions ended.";
    "admin.users.done.enabled" => "账号已启用。", "Account enabled.";
    "admin.users.taken" => "用户名 {user} 已被使用。", "The user name {user} is taken.";
    "admin.users.own_account" => "不能在此修改自己的账号，请到“我的账号”页面。", "Your own account is not changed here: use My account.";
    "admin.users.for" => "账号 {user}：", "Account {user}: ";
    "admin.users.new" => "新建账号", "New account";
    "admin.users.initial_password" => "初始密码", "Initial password";
    "admin.users.create" => "创建", "Create";
    "admin.users.new_hint" => "初始密码须符合密码策略；本人首次登录时必须修改。", "The initial password must meet the password policy; the holder must change it at the first sign-in.";
    "admin.users.actions" => "操作", "Actions";
    "admin.users.new_password" => "新密码", "New password";
    "admin.users.reset" => "重置密码", "Reset password";
    "admin.users.enable" => "启用", "Enable";
    "admin.users.disable" => "停用", "Disable";
    "form.password.too_short" => "密码至少需要 {n} 个字符。", "The password needs at least {n} characters.";
    "form.password.classes" => "密码须包含小写字母、大写字母、数字、其他字符中的至少 {n} 类。", "The password must mix at least {n} of: lower case, upper case, digits, other characters.";
    "form.password.username" => "密码不能包含用户名。", "The password must not contain the user name.";
    "form.username.empty" => "请填写用户名。", "Enter a user name.";
    "form.username.too_long" => "用户名不能超过 {n} 个字符。", "The user name may have at most {n} characters.";
    "form.username.bad_char" => "用户名只能包含字母、数字和 . _ - @，不能包含“{char}”。", "The user name may hold only letters, digits and . _ - @, not \"{char}\".";
    "form.display_name.invalid" => "姓名不能超过 {n} 个字符，也不能包含控制字符。", "The name may have at most {n} characters and no control characters.";
    "admin.roles.title" => "角色分配", "Roles and scopes";
    "admin.roles.intro" => "安全管理员在此为账号分配角色和范围。考核人员和单位领导须指定单位，干部须指定本人的干部编号。保存后该账号的会话结束，新角色在下次登录时生效。", "The security administrator assigns roles and scopes to accounts here. Assessors and unit leaders need units, officials their own cadre record. Saving ends the account's sessions; the new roles apply from the next sign-in.";
    "admin.roles.done" => "角色已保存，该账号的会话已结束。", "Roles saved; the account's sessions ended.";
    "admin.roles.edit" => "分配角色", "Assign roles";
    "admin.roles.two_admins" => "三员分立：同一账号不能同时担任{a}和{b}。", "Separation of duties: one account may not be both {a} and {b}.";
    "admin.roles.admin_with_business" => "三员分立：管理员不兼任业务角色，{a}不能同时担任{b}。", "Separation of duties: an administrator holds no business role; {a} may not also be {b}.";
    "admin.roles.last_holder" => "{role}只剩这一个启用的账号，不能撤销或停用：请先将该角色分配给另一个账号（命令行 kaohe user 仍可用于恢复）。", "This is the last enabled account holding {role}: it cannot be demoted or disabled here; give the role to another account first (the command line kaohe user remains the recovery).";
    "admin.roles.no_role" => "请至少选择一个角色。", "Choose at least one role.";
    "admin.roles.own_account" => "不能为自己的账号分配角色。", "Nobody may assign roles to their own account.";
    "admin.roles.units_needed" => "{role}须指定至少一个单位。", "{role} needs at least one unit.";
    "admin.roles.units_unused" => "只有考核人员和单位领导按单位授权，请清空单位。", "Only assessors and unit leaders are scoped to units: clear the units.";
    "admin.roles.cadre_needed" => "干部角色须指定本人的干部编号。", "The official role needs the holder's cadre record.";
    "admin.roles.cadre_unused" => "只有干部角色关联干部编号，请清空干部编号。", "Only the official role takes a cadre record: clear it.";
    "admin.roles.needs_totp" => "{role}必须使用动态验证码：请该账号先在“我的账号”中设置动态验证码。", "{role} requires a one-time code: the account must first set one up under My account.";
    "admin.roles.unknown_role" => "未知角色：{role}", "Unknown role: {role}";
    "admin.roles.bad_unit" => "单位编码无效：{unit}", "Invalid unit code: {unit}";
    "admin.roles.bad_cadre" => "干部编号无效：{cadre}", "Invalid cadre ID: {cadre}";
    "admin.roles.no_unit" => "没有编码为 {unit} 的单位。", "There is no unit {unit}.";
    "admin.roles.no_cadre" => "没有编号为 {cadre} 的干部。", "There is no cadre {cadre}.";
    "admin.roles.separation" => "系统管理员、安全管理员、审计管理员三者不能由同一账号兼任。", "No account may hold two of: system administrator, security administrator, audit administrator.";
    "admin.roles.totp_hint" => "该账号尚未设置动态验证码，因此不能担任管理员角色。", "This account has no one-time codes set up, so it cannot take an administrator role.";
    "admin.roles.units" => "单位编码（多个用空格或逗号分隔）", "Unit codes (separated by spaces or commas)";
    "admin.roles.cadre" => "干部编号（干部角色）", "Cadre ID (official role)";
    "admin.roles.sessions_end" => "保存后该账号需重新登录。", "After saving, the account signs in again.";
    "admin.roles.save" => "保存", "Save";
    "account.title" => "我的账号", "My account";
    "account.must_change" => "您的密码由管理员设置，请先修改密码再继续使用。", "Your password was set by an administrator: change it before going on.";
    "account.password" => "修改密码", "Change password";
    "account.current_password" => "当前密码", "Current password";
    "account.new_password" => "新密码", "New password";
    "account.confirm_password" => "再次输入新密码", "New password again";
    "account.password_hint" => "修改后，您在其他设备上的登录会结束。", "Changing it signs you out everywhere else.";
    "account.change_password" => "修改密码", "Change password";
    "account.password.wrong" => "当前密码不正确。", "The current password is wrong.";
    "account.password.mismatch" => "两次输入的新密码不一致。", "The new passwords differ.";
    "account.password.same" => "新密码不能与当前密码相同。", "The new password must differ from the current one.";
    "account.done.password" => "密码已修改，其他会话已结束。", "Password changed; your other sessions ended.";
    "account.done.totp" => "动态验证码已启用，以后登录须输入验证码。", "One-time codes are on: signing in now needs a code.";
    "account.done.totp_removed" => "动态验证码已停用。", "One-time codes are off.";
    "account.totp" => "动态验证码（双因素认证）", "One-time codes (two-factor authentication)";
    "account.totp.on" => "已启用：登录时须输入认证器应用中的 6 位验证码。", "On: signing in needs the 6-digit code of your authenticator app.";
    "account.totp.off" => "未启用。启用后，登录时除密码外还须输入认证器应用中的验证码。", "Off. When on, signing in needs a code from an authenticator app besides the password.";
    "account.totp.required" => "您的角色必须使用动态验证码，不能停用。", "Your role requires one-time codes: they cannot be turned off.";
    "account.totp.remove" => "停用动态验证码", "Turn one-time codes off";
    "account.totp.replace" => "更换认证器（重新设置）", "Replace the authenticator (set up again)";
    "account.totp.start" => "设置动态验证码", "Set up one-time codes";
    "account.totp.replacing" => "确认后，旧认证器中的验证码将失效。", "Once confirmed, the codes of the old authenticator stop working.";
    "account.totp.scan" => "用认证器应用扫描二维码，或手工输入下面的密钥；然后输入应用显示的 6 位验证码和当前密码以确认。", "Scan the QR code with an authenticator app, or type in the secret below; then confirm with the 6-digit code the app shows and your current password.";
    "account.totp.qr" => "动态验证码二维码", "QR code for one-time codes";
    "account.totp.secret" => "密钥", "Secret";
    "account.totp.uri" => "otpauth 链接", "otpauth URI";
    "account.totp.code" => "6 位验证码", "6-digit code";
    "account.totp.confirm" => "确认启用", "Confirm";
    "account.totp.bad_secret" => "密钥无效，已生成新的密钥，请重新扫描。", "The secret was invalid: a new one was made, scan again.";
    "account.totp.wrong_code" => "验证码不正确，请检查手机时间后重试。", "Wrong code: check the phone's clock and try again.";
    // Assessment cycles (考核): the cycles' pages, the committee, results, frameworks.
    "nav.cycles" => "考核", "Cycles";
    "nav.my_results" => "考核结果", "My results";
    "cycles.title" => "考核周期", "Assessment cycles";
    "cycles.intro" => "每个考核周期把指标体系、范围内人员和期间数据变成有据可查的结果：草稿 → 采集中 → 已计算 → 委员会审议 → 已定稿。定稿后的结果只能以更正方式修改，新旧版本都保留。", "A cycle turns a framework, the people of a scope and the data of a period into traceable results: draft → collecting → computed → committee review → final. A final result changes only by amendment, and both versions are kept.";
    "cycles.empty" => "您的范围内还没有考核周期。", "No assessment cycle in your units yet.";
    "cycles.create" => "建立考核周期", "New assessment cycle";
    "cycles.create_button" => "建立", "Create";
    "cycles.name_example" => "例如 2026年度考核", "e.g. 2026 annual assessment";
    "cycles.units_hint" => "可多选；每个单位含其全部下级单位。人员按期末最后一天的任职确定。", "Several may be chosen; each unit includes everything under it. People are taken as of the period's last day.";
    "cycle.name" => "考核周期", "Cycle";
    "cycle.kind" => "种类", "Kind";
    "cycle.state" => "状态", "State";
    "cycle.period" => "期间", "Period";
    "cycle.start" => "开始日期", "First day";
    "cycle.end" => "结束日期", "Last day";
    "cycle.framework" => "指标体系", "Framework";
    "cycle.units" => "考核范围（单位）", "Scope (units)";
    "cycle.people" => "人数", "People";
    "cycle.person" => "姓名", "Name";
    "cycle.created" => "建立", "Created";
    "cycle.results" => "考核结果", "Results";
    "cycle.done" => "已完成：{step}。", "Done: {step}.";
    "cycle.problems" => "未能完成，原因如下（未做任何修改）：", "Not done, for these reasons (nothing was changed):";
    "cycle.form.bad_date" => "{field}：请填写日期（年-月-日）。", "{field}: enter a date (YYYY-MM-DD).";
    "cycle.form.no_unit" => "请至少选择一个单位。", "Choose at least one unit.";
    "cycle.grade.none" => "不定等次", "No grade";
    "cycle.distribution" => "各单位等次分布", "Grades by unit";
    "cycle.total" => "合计", "Total";
    "cycle.changes" => "期间人员变动", "Changes during the period";
    "cycle.no_changes" => "期间没有调入、调出或范围内调动。", "Nobody joined, left or moved during the period.";
    "cycle.change" => "变动", "Change";
    "cycle.change_on" => "日期", "On";
    "cycle.change_from" => "原单位", "From";
    "cycle.change_to" => "新单位", "To";
    "cycle.revisions" => "结果版本", "Revisions";
    "cycle.no_revisions" => "尚未计算。", "Not computed yet.";
    "cycle.revision" => "版本", "Revision";
    "cycle.revision_kind" => "类型", "Kind";
    "cycle.revision_at" => "时间", "When";
    "cycle.revision_by" => "操作人", "By";
    "completeness.title" => "数据完整性", "Completeness of the values";
    "completeness.missing" => "缺失人数", "Missing";
    "punct.colon" => "：", ": ";
    "punct.list" => "；", "; ";
    "completeness.who" => "缺失人员", "Who misses it";
    "completeness.rule" => "缺失值处理", "What the missing-value rule does";
    "values.title" => "导入数据", "Import values";
    "values.intro" => "上传 CSV 或 XLSX 文件：person_id 一列，每个指标一列（指标标识或名称）。全部成功或全部不导入；错误按行、列列出。已填好人员和单位的模板：", "Upload a CSV or XLSX file: a person_id column and one column per indicator (its id or name). All or nothing; errors are listed by row and column. A template with the people and units filled in:";
    "values.template_xlsx" => "下载模板（XLSX）", "Template (XLSX)";
    "values.template_csv" => "下载模板（CSV）", "Template (CSV)";
    "values.template_name" => "导入模板", "template";
    "values.file" => "数据文件", "Values file";
    "values.upload" => "上传并导入", "Upload and import";
    "values.no_file" => "请选择一个数据文件。", "Choose a values file.";
    "values.bad_type" => "{file}：不支持的文件类型，请上传 .csv 或 .xlsx 文件。", "{file}: unsupported file type; upload a .csv or .xlsx file.";
    "amend.title" => "更正定稿结果", "Amend the final result";
    "amend.intro" => "更正须写明理由，可附更正数值文件；整个周期重新计算，原版本和更正版本都保留。", "An amendment needs a reason and may bring a file of corrected values; the whole cycle is recomputed and both revisions are kept.";
    "amend.reason" => "理由", "Reason";
    "amend.file" => "更正数值文件（可选）", "Corrected values (optional)";
    "amend.button" => "更正", "Amend";
    "result.score" => "得分", "Score";
    "result.rank" => "排名", "Rank";
    "result.rank_in_unit" => "单位内排名", "Rank in unit";
    "result.interval" => "排名区间（5%–95%）", "Rank interval (5%–95%)";
    "result.grade" => "等次", "Grade";
    "result.rule" => "依据", "Rule";
    "result.flags" => "提示", "Flags";
    "result.search" => "姓名或编号", "Name or id";
    "result.export" => "导出", "Export";
    "result.empty" => "没有符合条件的结果。", "No result matches.";
    "filter.all" => "全部", "All";
    "filter.apply" => "筛选", "Filter";
    "export.person_id" => "人员编号", "person_id";
    "export.name" => "姓名", "name";
    "export.unit_id" => "单位编码", "unit_id";
    "export.unit_name" => "单位名称", "unit_name";
    "export.score" => "得分", "score";
    "export.rank" => "排名", "rank";
    "export.rank_in_unit" => "单位内排名", "rank_in_unit";
    "export.p05" => "排名区间下限", "rank_p05";
    "export.p95" => "排名区间上限", "rank_p95";
    "export.grade" => "等次", "grade";
    "export.rule" => "依据", "rule";
    "export.flags" => "提示", "flags";
    "rule.threshold" => "按得分所在档次", "Score band";
    "rule.quota" => "超出{top}比例，评为次一等次", "Beyond the {top} quota: the next grade";
    "rule.quota_tie_committee" => "比例线并列，待考核委员会决定", "Tied at the quota line: for the assessment committee";
    "rule.blocked_warning" => "年内受警告，不得评为{top}", "A warning in the year: not {top}";
    "rule.blocked_sanction" => "处分影响期内，不定等次", "Sanction in effect: no grade";
    "rule.blocked_routine_poor" => "平时考核“较差”次数超限，不得评为{top}", "Too many routine 'poor' results: not {top}";
    "rule.committee_award_top" => "考核委员会确定为{top}", "The committee awarded {top}";
    "rule.committee_keep_next" => "考核委员会决定维持次一等次", "The committee kept the next grade";
    "rule.veto" => "一票否决：{indicator}", "Veto: {indicator}";
    "flag.committee_review" => "待考核委员会审议", "For the committee";
    "flag.missing" => "缺少数据：{indicator}", "Missing: {indicator}";
    "flag.outside" => "超出范围：{indicator}", "Out of range: {indicator}";
    "flag.no_baseline" => "无基期数据，仅按水平计分：{indicator}", "No baseline, level only: {indicator}";
    "flag.unshrunk" => "缺少评价数，未收缩：{indicator}", "No count, not shrunk: {indicator}";
    "flag.veto" => "否决项：{indicator}", "Vetoed by: {indicator}";
    "method.minmax" => "极差标准化法", "Min–max scaling";
    "method.zscore" => "标准分数法", "Standard scores (z)";
    "method.goalposts" => "固定阈值法", "Fixed goalposts";
    "method.target" => "目标值法", "Target value";
    "method.bands" => "分档计分法", "Scoring bands";
    "method.rank" => "名次计分法", "By rank";
    "method.other" => "其他方法", "Other method";
    "missing.reweight" => "不计该项，其余指标按权重重新分配", "Left out; the other weights are rescaled";
    "missing.zero" => "按 0 分计", "Scored 0";
    "missing.mean" => "按已有人员的平均得分计", "Scored the mean of those observed";
    "missing.min" => "按已有人员的最低得分计", "Scored the lowest observed";
    "missing.error" => "缺失即拒绝计算", "Computing is refused";
    "missing.auxiliary" => "辅助列：缺失时不收缩", "Auxiliary column: no shrinkage when missing";
    "framework.missing" => "缺失值处理", "Missing values";
    "committee.title" => "考核委员会", "Assessment committee";
    "committee.intro" => "比例线上的并列不由机器决定：请逐人决定“确定为最高等次”或“维持次一等次”，有提示的人员可“维持计算结果”。每个决定须写明理由；任何决定都不能使最高等次人数超过比例。", "Ties at a quota line are not broken by the machine: decide for each person to award the top grade or keep the next; flagged people may be confirmed. Each decision needs a reason; no decision may award the top grade beyond the quota.";
    "committee.ties" => "比例线上的并列", "Ties at a quota line";
    "committee.no_ties" => "没有比例线上的并列。", "No tie at a quota line.";
    "committee.scope_all" => "全体人员", "Everyone";
    "committee.quota" => "{top}比例 {k} 人，已确定 {awarded} 人", "{top} quota {k}, awarded {awarded}";
    "committee.contributions" => "主要得分项", "Largest contributions";
    "committee.decision" => "决定", "Decision";
    "committee.reason" => "理由", "Reason";
    "committee.record" => "记录决定", "Record the decision";
    "committee.recorded" => "决定已记录。", "Decision recorded.";
    "committee.flagged" => "有提示的人员", "Flagged people";
    "committee.no_flags" => "没有需要审议的提示。", "No flag to review.";
    "committee.decisions" => "已作出的决定", "Decisions so far";
    "committee.no_decisions" => "尚无决定。", "No decision yet.";
    "committee.by" => "决定人", "Decided by";
    "committee.finalize" => "定稿", "Finalize";
    "committee.undecided" => "还有 {n} 名并列人员未决定，全部决定后才能定稿。", "{n} tied people still wait for a decision; the cycle can be finalized once all are decided.";
    "rec.trace_heading" => "{framework}（{version}）{period} 纪实计分", "{framework} ({version}), {period}: scores from records";
    "rec.trace_intro" => "每个由纪实计分的指标：计分的纪实（已核实、未被更正）条数、正向与反向分值合计，以及按指标体系规则得出的指标值（与考核周期计算所用规则相同）。下方列出这些纪实。", "Each record-filled indicator: the records that count (verified, not corrected), their positive and negative points, and the value the framework's rule gives (the rule a cycle computes with). The records are listed below.";
    "rec.trace_counted" => "计分纪实", "Records counted";
    "rec.trace_positive" => "正向分值", "Positive points";
    "rec.trace_negative" => "反向分值", "Negative points";
    "rec.trace_value" => "指标值", "Indicator value";
    "result.records" => "依据的纪实", "Records behind it";
    "nav.judgements" => "平时考核评价", "Routine judgements";
    "judgement.list_title" => "平时考核评价", "Routine assessment judgements";
    "judgement.intro" => "平时考核以季度内经核实的纪实为依据，并结合单位主要负责人的评价。以下周期等待您对本单位人员作出评价。", "Routine assessment rests on the quarter's verified work records and the unit leader's judgement. These cycles wait for your judgement of the people of your unit.";
    "judgement.no_cycles" => "目前没有等待评价的平时考核周期。", "No routine cycle waits for your judgement now.";
    "judgement.progress" => "已评价 {judged} / {people} 人", "{judged} of {people} judged";
    "judgement.title" => "负责人评价", "Unit leader's judgement";
    "judgement.how" => "请逐人选择好、较好、一般或较差（分别计 95、85、70、50 分，计入“单位主要负责人评价”指标）；未选择的人员保持原评价。计算前可随时修改。", "Choose good, fairly good, fair or poor for each person (95, 85, 70 or 50 points in the judgement indicator); people left unchosen keep their judgement. You may change it until the cycle is computed.";
    "judgement.grade" => "评价", "Judgement";
    "judgement.unset" => "（未评价）", "(not judged)";
    "judgement.save" => "保存评价", "Save judgements";
    "judgement.saved" => "评价已保存。", "Judgements saved.";
    "judgement.none" => "没有选择任何评价。", "No judgement was chosen.";
    "judgement.not_yours" => "{cadre} 不是本单位在本周期的考核对象", "{cadre} is not one of your people in this cycle";
    "revision.title" => "结果版本 {n}", "Revision {n}";
    "revision.corrects" => "更正的版本", "Corrects revision";
    "revision.changed" => "结果有变化的人员（更正前 → 更正后）", "People whose result changed (before → after)";
    "revision.unchanged" => "没有人的得分、排名或等次发生变化。", "Nobody's score, rank or grade changed.";
    "my.title" => "考核结果", "Assessment results";
    "my.intro" => "已定稿考核周期的结果：干部本人的结果，单位负责人所在单位人员的结果。", "Results of final cycles: an official's own, and a unit leader's those of the unit.";
    "my.empty" => "还没有已定稿的考核结果。", "No final result yet.";
    "frameworks.stored" => "已入库的版本", "Stored versions";
    "frameworks.none_stored" => "尚无入库的版本；考核人员第一次打开本页或建立周期时，内置预设自动入库。", "No version stored yet; the presets are stored when an assessor first opens this page or creates a cycle.";
    "frameworks.presets" => "内置预设", "Built-in presets";
    "frameworks.origin" => "来源", "Origin";
    "frameworks.origin_preset" => "内置预设", "Built-in preset";
    "frameworks.origin_upload" => "上传", "Upload";
    "frameworks.stored_at" => "入库", "Stored";
    "frameworks.cycles" => "使用的周期数", "Cycles using it";
    "frameworks.upload" => "上传新版本", "Upload a new version";
    "frameworks.upload_intro" => "上传 TOML 格式的指标体系文件；文件中的所有问题一次列出。一个版本入库后永不改变：修改过的文件须使用新的 version。", "Upload a framework file in TOML; every problem in it is listed at once. A stored version never changes: a changed file needs a new version.";
    "frameworks.file" => "指标体系文件（TOML）", "Framework file (TOML)";
    "frameworks.upload_button" => "上传", "Upload";
    "frameworks.no_file" => "请选择一个 TOML 文件。", "Choose a TOML file.";
    "frameworks.not_text" => "{file}：不是 UTF-8 文本文件。", "{file}: not a UTF-8 text file.";
    "frameworks.invalid" => "{file} 有以下问题：", "{file} has these problems:";
    "frameworks.changed" => "此版本已入库且内容不同；修改过的文件须使用新的 version。", "This version is stored with other content; a changed file needs a new version.";
    "frameworks.stored_new" => "新版本已入库。", "The new version is stored.";
    "frameworks.stored_same" => "此版本已以相同内容入库，未产生新版本。", "This version was stored already with the same content; nothing new was stored.";
    "frameworks.stored_facts" => "{origin} · 入库 {at} · {by} · 使用的周期 {cycles} 个", "{origin} · stored {at} by {by} · used by {cycles} cycles";
}

/// The message `key` in `lang`. A key missing from [`MESSAGES`] shows as `?` and is logged (a
/// unit test keeps every key the templates and page handlers use in the table).
pub fn t(lang: Lang, key: &str) -> &'static str {
    match MESSAGES.iter().find(|m| m.key == key) {
        Some(m) => match lang {
            Lang::Zh => m.zh,
            Lang::En => m.en,
        },
        None => {
            tracing::warn!(key, "missing message");
            "?"
        }
    }
}

/// The message `key` in `lang` with each `{name}` replaced by its value.
pub fn format(lang: Lang, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut text = t(lang, key).to_owned();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), &value.to_string());
    }
    text
}

/// The name of a weekday.
pub fn weekday(lang: Lang, day: time::Weekday) -> &'static str {
    let key = match day.number_from_monday() {
        1 => "weekday.1",
        2 => "weekday.2",
        3 => "weekday.3",
        4 => "weekday.4",
        5 => "weekday.5",
        6 => "weekday.6",
        _ => "weekday.7",
    };
    t(lang, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::collections::HashSet;

    #[test]
    fn table_is_complete_and_unique() {
        let mut seen = HashSet::new();
        for m in MESSAGES {
            assert!(seen.insert(m.key), "duplicate key {}", m.key);
            assert!(
                !m.zh.is_empty() && !m.en.is_empty(),
                "empty text for {}",
                m.key
            );
            assert!(
                !m.en
                    .contains(|c: char| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "Chinese in English text of {}",
                m.key
            );
        }
    }

    /// The files in `dir` and its subfolders.
    fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).expect("directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                files.extend(files_under(&path));
            } else {
                files.push(path);
            }
        }
        files
    }

    /// Every `t("…")` and `tf("…"` in a template or page handler names a message.
    #[test]
    fn templates_use_known_keys() {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut files = files_under(std::path::Path::new(&format!("{root}/templates")));
        for module in [
            "home",
            "shell/page",
            "org/pages",
            "accounts/login",
            "accounts/account",
            "accounts/admin",
            "accounts/audit",
            "cycles/pages",
            "cycles/pages_cycle",
            "cycles/pages_values",
            "cycles/pages_results",
            "cycles/pages_committee",
            "cycles/pages_words",
            "records/pages",
            "records/view",
            "records/files",
        ] {
            files.push(format!("{root}/src/{module}.rs").into());
        }
        let mut checked = 0;
        for path in files {
            let text = std::fs::read_to_string(&path).expect("template");
            for marker in ["t(\"", "tf(\""] {
                for (at, _) in text.match_indices(marker) {
                    let rest = &text[at + marker.len()..];
                    let key = &rest[..rest.find('"').expect("closing quote")];
                    assert!(
                        MESSAGES.iter().any(|m| m.key == key),
                        "{}: unknown key {key}",
                        path.display()
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 20, "found only {checked} keys");
    }

    #[test]
    fn lookup_and_format() {
        assert_eq!(t(Lang::Zh, "nav.units"), "单位");
        assert_eq!(t(Lang::En, "nav.units"), "Units");
        assert_eq!(t(Lang::En, "no.such.key"), "?");
        let text = format(
            Lang::En,
            "pager.page_of",
            &[("page", &3), ("pages", &5), ("total", &41)],
        );
        assert_eq!(text, "Page 3 of 5 (41 rows)");
        assert_eq!(weekday(Lang::Zh, time::Weekday::Sunday), "星期日");
    }

    #[test]
    fn accept_language() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Lang::Zh)
        );
        assert_eq!(
            Lang::from_accept_language("fr, en;q=0.5, zh;q=0.7"),
            Some(Lang::Zh)
        );
        assert_eq!(
            Lang::from_accept_language("de-DE, en-GB;q=0.3"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("en;q=0, zh;q=0.1"),
            Some(Lang::Zh)
        );
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(Lang::from_accept_language(""), None);
    }

    #[test]
    fn negotiation_order() {
        let mut headers = HeaderMap::new();
        assert_eq!(Lang::negotiate(None, &headers), Lang::Zh);
        headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("en-US"));
        assert_eq!(Lang::negotiate(None, &headers), Lang::En);
        headers.insert(COOKIE, HeaderValue::from_static("a=b; lang=zh"));
        assert_eq!(Lang::negotiate(None, &headers), Lang::Zh);
        assert_eq!(Lang::negotiate(Some("en"), &headers), Lang::En);
        assert_eq!(Lang::negotiate(Some("xx"), &headers), Lang::Zh);
    }
}
