# 本单位好差评：干部和单位领导首页上本单位近十二个月各月的好差评，口径与满意度统计页相同。
trend-heading = 本单位好差评（近十二个月）
trend-summary = { $unit }近十二个月共 { $n } 条评价，满意率 { $rate }。
trend-none = { $unit }近十二个月没有收到评价。
trend-note = 满意率 = 非常满意、满意、基本满意的评价数 / 评价数，与满意度统计页口径相同；经申诉剔除的评价不计入。没有评价的月份满意率留空（—），不记为 0%。整改逾期按今天计。
trend-chart = { $unit }各月好差评
trend-chart_label = 组合图：按月份先后，折线为各月满意率（没有评价的月份留空），柱形为评价数、差评数及其中整改逾期数；具体数字见下表。
trend-month = { $year }年{ $month }月
trend-month_col = 月份
trend-bad = 差评
trend-overdue = 其中整改逾期
trend-link = 本单位近十二个月好差评 →
# 本人的待办期限：干部首页上本人经办办件的差评整改，按整改期限排列。
trend-due_heading = 我的待办期限
trend-due_intro = 您经办的办件收到差评，整改尚未办结；按整改期限排列，由本单位负责整改。
trend-due_empty = 您经办的办件没有待整改的差评。
