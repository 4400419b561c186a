// The UI's words in Chinese and English. The language follows the browser (zh* → 中文, else
// English) until the agent picks one with the switch; the choice is kept in localStorage.

import { formatDeskTime } from "./clock.js";

const STRINGS = {
  en: {
    app: "omnidesk", inbox: "Inbox", dashboard: "Dashboard", admin: "Admin", logout: "Sign out",
    switch_lang: "中文", signin_title: "Sign in to the service desk", username: "Username",
    password: "Password", signin: "Sign in", signing_in: "Signing in…",
    invalid_credentials: "Wrong username or password.",
    too_many_attempts: "Too many attempts. Try again in {s} seconds.",
    network_error: "The server cannot be reached.", loading: "Loading…",
    live: "Live", reconnecting: "Reconnecting…", availability: "Availability",
    online: "Online", away: "Away", offline: "Offline",
    tasks: "Tasks", mine: "Mine", unassigned: "Unassigned", all: "All",
    any_channel: "All channels", any_category: "All categories", any_priority: "All priorities",
    any_language: "All languages", open_statuses: "Open", any_status: "Any status",
    search: "Search text, complaint ref…", sort_newest: "Newest", sort_due: "SLA due first",
    sort_updated: "Recently updated", no_tasks: "No tasks here. New requests appear live.",
    showing: "{from}–{to} of {total}", previous: "Previous", next: "Next",
    new_request: "New request #{id}", updated_request: "#{id} updated",
    due_in: "{t} left", overdue: "overdue {t}", responded: "answered", no_sla: "no SLA",
    unknown_customer: "Customer #{id}",
    back: "← Inbox", customer: "Customer", identities: "Channels of this customer",
    other_requests: "Requests of this customer", details: "Details", history: "History",
    status: "Status", category: "Category", priority: "Priority", language: "Language",
    team: "Team", assignee: "Assignee", nobody: "— queue —", assign_me: "Assign to me",
    priority_reason: "Why change the priority? (kept in the history)",
    first_response_due: "First response due", resolution_due: "Resolution due",
    complaint_ref: "Complaint ref", set_pending: "Pending", resolve: "Resolve", reopen: "Reopen",
    reply: "Reply", note: "Internal note", send: "Send", add_note: "Add note",
    reply_via: "Reply via", templates: "Templates…", suggestions: "Suggested answers",
    no_suggestions: "No knowledge-base answer fits this request.", use: "Use",
    write_reply: "Write a reply… (Ctrl+Enter sends)", write_note: "A note for colleagues only",
    sent_reply: "Reply queued.", note_added: "Note added.", no_reply_option:
      "No channel can reach this customer now.", automatic: "Automatic", internal_note: "Internal note",
    from_request: "request #{id}", recording: "Recording", open_file: "Open", call: "Phone call",
    voice_message: "Voice message", media_unavailable: "The media is no longer available.",
    merged_into: "Merged into #{id}", score: "match {n}%",
    period: "Period", last_days: "Last {n} days", days_in_zone: "{first} – {last}, days in {zone}", total_requests: "Requests",
    first_response: "First response", resolution: "Resolution", median: "median", p90: "p90",
    business: "business hours", sla_attainment: "SLA attainment", csat: "Satisfaction (CSAT)",
    reopen_rate: "Reopen rate", volume_over_time: "Volume over time", by_channel: "By channel",
    by_category: "By category", met: "met", breached: "breached", no_data: "No data yet",
    minutes: "{n} min", hours_short: "{n} h", staff_only: "Reports are for supervisors and admins.",
    connectors: "Connectors", people: "Teams & agents", rules: "Routing rules",
    hours_sla: "Hours & SLAs", knowledge: "Knowledge base", quarantine: "Quarantine",
    classifier: "Classifier", audit: "Audit log",
    name: "Name", channel: "Channel", source: "Source", state: "State", enabled: "Enabled",
    webhook: "Webhook URL", actions: "Actions", add_connector: "Add connector",
    test: "Test", test_ok: "Connection works.", diagnostics: "Diagnostics", enable: "Enable",
    disable: "Disable", edit: "Edit", save: "Test and save", save_only: "Save without testing",
    cancel: "Cancel", close: "Close", saved: "Saved.", required: "required",
    keep_secret: "leave empty to keep", read_only_file: "from the config file (read-only)",
    counters: "Counters", last_errors: "Latest errors", none: "None",
    teams: "Teams", agents: "Agents", add_team: "Add team", add_agent: "Add agent",
    display_name: "Display name", hours: "Hours", lead: "Lead", members: "Members",
    role: "Role", capacity: "Capacity", open_requests: "Open", active: "Active",
    languages: "Languages", categories: "Categories", channels: "Channels",
    deactivate: "Deactivate", activate: "Activate", delete: "Delete", confirm_delete: "Delete {x}?",
    add_rule: "Add rule", conditions: "Conditions", keywords: "Keywords (comma separated)",
    set_priority: "Set priority", sla: "SLA policy", up: "Move up", down: "Move down",
    any: "any", tried_in_order: "Rules are tried in order; the first match wins.",
    opens: "Opens", closes: "Closes", time_zone: "Time zone", workdays: "Workdays",
    holidays: "Holidays", policies: "SLA policies", clock: "Clock",
    config_file_note: "These come from the config file.", thresholds: "Thresholds",
    questions: "Questions", answer: "Answer", filter: "Filter…",
    reason: "Reason", size: "Size", received: "Received", view: "View", retry: "Retry",
    discard: "Discard", payload: "Payload", held: "Held", retried: "Retried",
    discarded: "Discarded", nothing_held: "Nothing in quarantine.",
    active_version: "Active version", versions: "Versions", macro_f1: "Held-out macro-F1",
    untrained: "Corrections not trained on yet", retrain: "Retrain now",
    at: "When", actor: "Who", action: "What", target: "On", details_col: "Details",
    error: "Something went wrong: {x}", forbidden: "You may not see this page.",
    weekdays: "Mon,Tue,Wed,Thu,Fri,Sat,Sun", version: "Version", yes: "yes", no: "no",
    reply_templates: "Reply templates", placeholders: "May use", no_placeholders: "no placeholders",
    extra_workdays: "Extra workdays", calendar: "Public holidays",
    calendar_cn: "China (official holidays and make-up workdays)", calendar_none: "None",
    reset: "Reset to file", add_hours: "Add hours", add_policy: "Add SLA policy",
    add_entry: "Add entry", entry_id: "ID", title: "Title",
    short_answer: "SMS answer (at most 2 segments)", one_per_line: "one per line",
    from_console: "console", from_default: "built in", from_file: "config file",
    overrides_file: "replaces the file's (or built-in) entry", add_date: "Add", remove: "Remove",
    save_settings: "Save", clock_business: "business hours", clock_wall: "wall clock (24 h)",
    duration_hint: "e.g. 30m, 4h, 1d12h (on business hours a d is one working day)",
    settings_note: "Saving an entry of the config file here overrides it; Reset brings the file's back. Every process uses a change within seconds.",
    edit_title: "Edit {x}",
  },
  zh: {
    app: "omnidesk", inbox: "收件箱", dashboard: "数据看板", admin: "管理", logout: "退出登录",
    switch_lang: "English", signin_title: "登录客服工作台", username: "用户名", password: "密码",
    signin: "登录", signing_in: "正在登录…", invalid_credentials: "用户名或密码错误。",
    too_many_attempts: "尝试次数过多，请 {s} 秒后再试。", network_error: "无法连接服务器。",
    loading: "加载中…", live: "实时", reconnecting: "重新连接中…", availability: "在线状态",
    online: "在线", away: "离开", offline: "离线",
    tasks: "任务", mine: "我的", unassigned: "待分配", all: "全部",
    any_channel: "全部渠道", any_category: "全部分类", any_priority: "全部优先级",
    any_language: "全部语言", open_statuses: "未结", any_status: "全部状态",
    search: "搜索内容、投诉编号…", sort_newest: "最新", sort_due: "SLA 最紧急",
    sort_updated: "最近更新", no_tasks: "暂无任务，新请求会实时出现。",
    showing: "第 {from}–{to} 条，共 {total} 条", previous: "上一页", next: "下一页",
    new_request: "新请求 #{id}", updated_request: "#{id} 已更新",
    due_in: "剩余 {t}", overdue: "已超时 {t}", responded: "已回复", no_sla: "无 SLA",
    unknown_customer: "客户 #{id}",
    back: "← 收件箱", customer: "客户", identities: "客户的联系渠道", other_requests: "该客户的请求",
    details: "详情", history: "处理记录", status: "状态", category: "分类", priority: "优先级",
    language: "语言", team: "团队", assignee: "处理人", nobody: "— 团队队列 —",
    assign_me: "分配给我", first_response_due: "首次响应截止", resolution_due: "解决截止",
    priority_reason: "调整优先级的原因？（记入处理记录）",
    complaint_ref: "投诉编号", set_pending: "待客户回复", resolve: "标记解决", reopen: "重新打开",
    reply: "回复", note: "内部备注", send: "发送", add_note: "添加备注", reply_via: "回复渠道",
    templates: "快捷回复…", suggestions: "知识库推荐", no_suggestions: "知识库中没有合适的答案。",
    use: "使用", write_reply: "输入回复…（Ctrl+Enter 发送）", write_note: "仅同事可见的备注",
    sent_reply: "回复已加入发送队列。", note_added: "备注已添加。",
    no_reply_option: "目前没有可以联系到该客户的渠道。", automatic: "自动回复",
    internal_note: "内部备注", from_request: "请求 #{id}", recording: "录音", open_file: "打开",
    call: "电话", merged_into: "已合并到 #{id}", score: "匹配度 {n}%",
    voice_message: "语音消息", media_unavailable: "该媒体文件已无法获取。",
    period: "时间范围", last_days: "最近 {n} 天", days_in_zone: "{first} 至 {last}（按 {zone} 日期）", total_requests: "请求数",
    first_response: "首次响应时间", resolution: "解决时间", median: "中位数", p90: "P90",
    business: "工作时间", sla_attainment: "SLA 达成率", csat: "满意度 (CSAT)",
    reopen_rate: "重开率", volume_over_time: "请求量趋势", by_channel: "按渠道",
    by_category: "按分类", met: "达成", breached: "超时", no_data: "暂无数据",
    minutes: "{n} 分钟", hours_short: "{n} 小时", staff_only: "报表仅对主管和管理员开放。",
    connectors: "渠道接入", people: "团队与客服", rules: "路由规则", hours_sla: "工作时间与 SLA",
    knowledge: "知识库", quarantine: "隔离区", classifier: "分类模型", audit: "操作日志",
    name: "名称", channel: "渠道", source: "来源", state: "状态", enabled: "启用",
    webhook: "Webhook 地址", actions: "操作", add_connector: "添加渠道", test: "测试连接",
    test_ok: "连接正常。", diagnostics: "诊断", enable: "启用", disable: "停用", edit: "编辑",
    save: "测试并保存", save_only: "保存（不测试）", cancel: "取消", close: "关闭", saved: "已保存。",
    required: "必填", keep_secret: "留空则保持不变", read_only_file: "来自配置文件（只读）",
    counters: "计数", last_errors: "最近的错误", none: "无",
    teams: "团队", agents: "客服", add_team: "添加团队", add_agent: "添加客服",
    display_name: "显示名称", hours: "工作时间", lead: "组长", members: "成员", role: "角色",
    capacity: "容量", open_requests: "未结", active: "启用", languages: "语言", categories: "分类",
    channels: "渠道", deactivate: "停用", activate: "启用", delete: "删除",
    confirm_delete: "确定删除 {x}？", add_rule: "添加规则", conditions: "条件",
    keywords: "关键词（逗号分隔）", set_priority: "设置优先级", sla: "SLA 策略", up: "上移",
    down: "下移", any: "任意", tried_in_order: "规则按顺序匹配，第一条命中的规则生效。",
    opens: "开始", closes: "结束", time_zone: "时区", workdays: "工作日", holidays: "节假日",
    policies: "SLA 策略", clock: "计时方式", config_file_note: "以下内容来自配置文件。",
    thresholds: "阈值", questions: "问题", answer: "答案", filter: "筛选…",
    reason: "原因", size: "大小", received: "接收时间", view: "查看", retry: "重试",
    discard: "丢弃", payload: "原始内容", held: "隔离中", retried: "已重试", discarded: "已丢弃",
    nothing_held: "隔离区是空的。", active_version: "当前版本", versions: "版本",
    macro_f1: "留出集 macro-F1", untrained: "尚未训练的人工更正", retrain: "立即重新训练",
    at: "时间", actor: "操作人", action: "操作", target: "对象", details_col: "详情",
    error: "出错了：{x}", forbidden: "你没有权限查看此页面。",
    weekdays: "周一,周二,周三,周四,周五,周六,周日", version: "版本", yes: "是", no: "否",
    reply_templates: "回复模板", placeholders: "可用占位符", no_placeholders: "无占位符",
    extra_workdays: "调休上班日", calendar: "法定节假日",
    calendar_cn: "中国（法定节假日与调休）", calendar_none: "无",
    reset: "恢复配置文件", add_hours: "添加营业时间", add_policy: "添加 SLA 策略",
    add_entry: "添加条目", entry_id: "编号", title: "标题",
    short_answer: "短信答案（最多两条短信）", one_per_line: "每行一个",
    from_console: "控制台", from_default: "内置", from_file: "配置文件",
    overrides_file: "覆盖配置文件或内置值", add_date: "添加", remove: "移除",
    save_settings: "保存", clock_business: "按营业时间", clock_wall: "自然时间（24 小时）",
    duration_hint: "如 30m、4h、1d12h（按营业时间计时，d 为一个工作日）",
    settings_note: "在此保存配置文件中的条目会覆盖它；“恢复配置文件”可还原。修改在几秒内对所有进程生效。",
    edit_title: "编辑 {x}",
  },
};

const LABELS = {
  en: {
    channel: { twilio: "SMS / Phone", email: "Email", wechat: "WeChat", weibo: "Weibo",
      webchat: "Web chat", voice: "Phone" },
    category: { order: "Order", after_sales: "After-sales", complaint: "Complaint",
      product: "Product", account: "Account", payment: "Payment", contact: "Contact",
      other: "Other" },
    priority: { urgent: "Urgent", high: "High", normal: "Normal", low: "Low" },
    status: { new: "New", open: "Open", pending: "Pending", resolved: "Resolved",
      closed: "Closed" },
    language: { zh: "Chinese", en: "English", other: "Other" },
    role: { admin: "Admin", supervisor: "Supervisor", agent: "Agent" },
    state: { ready: "Ready", retrying: "Retrying", needs_reauth: "Needs new credentials",
      error: "Error", disabled: "Disabled" },
    delivery: { pending: "queued", sending: "sending", sent: "sent", delivered: "delivered",
      read: "read", undelivered: "undelivered", failed: "failed", received: "" },
    error: { invalid_auth: "The provider refused these credentials.",
      cannot_connect: "Cannot reach the provider.", already_configured:
        "This account is already connected.", name_taken: "This name is taken.",
      string_pattern_mismatch: "Not in the expected format.", missing: "Required.",
      reserved: "This name is reserved.", read_only: "Read-only: it comes from the config file.",
      unknown_channel: "Unknown channel.", too_short: "Too short.", invalid: "Not valid.",
      already_exists: "Already exists.", connector_unavailable: "That channel is not live.",
      empty: "Write something first.", unknown: "The test failed.", not_found: "Not found.",
      not_retryable: "This connector cannot read a payload again.",
      already_retried: "It was retried already.", already_discarded: "It was discarded already.",
      in_use: "Still in use.", unknown_hours: "No hours of this name.",
      unknown_category: "Unknown category.", unknown_placeholder: "Unknown placeholder.",
      invalid_placeholder: "A $ must start a placeholder or be doubled ($$).",
      immutable: "Cannot be changed.", extra_forbidden: "Not a known field." },
    event: { request_opened: "Request opened", received: "Message received",
      classified: "Classified", routed: "Routed", assigned: "Assigned", replied: "Reply sent",
      reply_failed: "Reply failed", reply_retry: "Reply retried", note: "Note",
      recategorised: "Category corrected", resolved: "Resolved", reopened: "Reopened",
      pending: "Pending", escalated: "Escalated", sla_warning: "SLA warning",
      sla_breached: "SLA breached", merged: "Merged", merged_into: "Merged into",
      human_requested: "Customer asked for a person", auto_answered: "Answered automatically",
      acknowledged: "Acknowledged", status_changed: "Status changed", unassigned: "Unassigned",
      handed_back: "Handed back", survey_sent: "Survey sent", rated: "Rated",
      reply_queued: "Reply queued", sla_set: "SLA set", transferred: "Transferred",
      complaint_registered: "Complaint registered", message_attached: "Message added",
      recorded: "Recorded", recovered: "Recovered", auto_reply_skipped: "No automatic reply",
      automatic_ignored: "Automatic mail ignored", order_lookup_failed: "Order lookup failed",
      customer_merged: "Customers merged", reply_delivered: "Reply delivered",
      reply_read: "Reply read", reply_undelivered: "Reply undelivered",
      delivery_updated: "Delivery status", delivery_report: "Delivery report",
      queued: "Waiting in the team queue", priority_changed: "Priority changed" },
  },
  zh: {
    channel: { twilio: "短信/电话", email: "邮件", wechat: "微信", weibo: "微博",
      webchat: "在线客服", voice: "电话" },
    category: { order: "订单", after_sales: "售后", complaint: "投诉", product: "产品咨询",
      account: "账号", payment: "支付", contact: "联系方式", other: "其他" },
    priority: { urgent: "紧急", high: "高", normal: "普通", low: "低" },
    status: { new: "新建", open: "处理中", pending: "待回复", resolved: "已解决",
      closed: "已关闭" },
    language: { zh: "中文", en: "英文", other: "其他" },
    role: { admin: "管理员", supervisor: "主管", agent: "客服" },
    state: { ready: "正常", retrying: "重试中", needs_reauth: "需要重新授权", error: "配置错误",
      disabled: "已停用" },
    delivery: { pending: "排队中", sending: "发送中", sent: "已发送", delivered: "已送达",
      read: "已读", undelivered: "未送达", failed: "发送失败", received: "" },
    error: { invalid_auth: "服务商拒绝了这些凭据。", cannot_connect: "无法连接服务商。",
      already_configured: "该账号已经接入。", name_taken: "名称已被使用。",
      string_pattern_mismatch: "格式不正确。", missing: "必填。", reserved: "该名称为保留名称。",
      read_only: "只读：来自配置文件。", unknown_channel: "未知渠道。", too_short: "太短。",
      invalid: "无效。", already_exists: "已存在。", connector_unavailable: "该渠道当前不可用。",
      empty: "请先输入内容。", unknown: "测试失败。", not_found: "未找到。",
      not_retryable: "该渠道无法重新解析这条内容。", already_retried: "已经重试过。",
      already_discarded: "已经丢弃。",
      in_use: "仍在使用中。", unknown_hours: "没有这个名称的营业时间。",
      unknown_category: "未知分类。", unknown_placeholder: "未知占位符。",
      invalid_placeholder: "$ 后须接占位符名称，或写成 $$。",
      immutable: "不可修改。", extra_forbidden: "未知字段。" },
    event: { request_opened: "创建请求", received: "收到消息", classified: "自动分类",
      routed: "分配团队", assigned: "分配客服", replied: "已回复", reply_failed: "回复失败",
      reply_retry: "重试发送", note: "备注", recategorised: "更正分类", resolved: "已解决",
      reopened: "重新打开", pending: "待客户回复", escalated: "升级", sla_warning: "SLA 预警",
      sla_breached: "SLA 超时", merged: "合并", merged_into: "并入",
      human_requested: "客户要求人工", auto_answered: "自动解答", acknowledged: "已确认收到",
      status_changed: "状态变更", unassigned: "取消分配", handed_back: "退回队列",
      survey_sent: "发送回访", rated: "客户评分", reply_queued: "回复排队",
      sla_set: "设定 SLA", transferred: "转交", complaint_registered: "登记投诉",
      message_attached: "追加消息", recorded: "已记录", recovered: "已恢复",
      auto_reply_skipped: "未自动回复", automatic_ignored: "忽略自动邮件",
      order_lookup_failed: "订单查询失败", customer_merged: "合并客户", pending_set: "待客户回复",
      reply_delivered: "回复已送达", reply_read: "回复已读", reply_undelivered: "回复未送达",
      delivery_updated: "投递状态更新", delivery_report: "投递报告", queued: "进入团队队列",
      priority_changed: "调整优先级" },
  },
};

const KEY = "omnidesk.lang";
const listeners = new Set();
let current = pick();

function pick() {
  const saved = localStorage.getItem(KEY);
  if (saved === "zh" || saved === "en") return saved;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

export function lang() {
  return current;
}

export function setLang(value) {
  current = value === "zh" ? "zh" : "en";
  localStorage.setItem(KEY, current);
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  for (const fn of listeners) fn(current);
}

export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The UI text for a key, with {name} placeholders filled in. */
export function t(key, vars = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/** The label of a value of some kind (channel, category, status…); the value itself if unknown. */
export function label(kind, value) {
  if (value === null || value === undefined || value === "") return "—";
  return LABELS[current][kind]?.[value] ?? LABELS.en[kind]?.[value] ?? String(value);
}

export function known(kind) {
  return Object.keys(LABELS.en[kind] || {});
}

/** A moment as the desk reads it: in the desk's zone, named when the browser is elsewhere. */
export function formatTime(iso) {
  return formatDeskTime(iso, current === "zh" ? "zh-CN" : "en-GB");
}

/** "3 h 12 min", "45 s": a span of milliseconds, coarse as it grows. */
export function formatSpan(ms) {
  const sec = Math.max(0, Math.round(ms / 1000));
  const zh = current === "zh";
  if (sec < 60) return zh ? `${sec} 秒` : `${sec} s`;
  const min = Math.floor(sec / 60);
  if (min < 60) return zh ? `${min} 分 ${sec % 60} 秒` : `${min} min ${sec % 60} s`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return zh ? `${hours} 小时 ${min % 60} 分` : `${hours} h ${min % 60} min`;
  return zh ? `${Math.floor(hours / 24)} 天` : `${Math.floor(hours / 24)} d`;
}

export function formatMinutes(value) {
  if (value === null || value === undefined) return "—";
  return value >= 120 ? t("hours_short", { n: (value / 60).toFixed(1) })
    : t("minutes", { n: Math.round(value) });
}

export function percent(value) {
  return value === null || value === undefined ? "—" : `${Math.round(value * 1000) / 10}%`;
}

setLang(current);
