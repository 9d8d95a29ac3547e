# My unit's ratings: the ratings of an official's or a unit leader's unit month by month over the last twelve months, counted as the figures page counts them.
trend-heading = My unit's ratings, last 12 months
trend-summary = { $unit }: { $n } ratings in the last twelve months, satisfaction rate { $rate }.
trend-none = { $unit } received no ratings in the last twelve months.
trend-note = Satisfaction rate = ratings at 3–5 / ratings, as on the figures page; ratings excluded by an upheld appeal are not counted. A month without ratings has no rate (—), not 0%. Overdue rectifications are counted as of today.
trend-chart = { $unit }: ratings by month
trend-chart_label = Combined chart in time order: the line is each month's satisfaction rate (left blank for a month without ratings), the bars the ratings, the bad reviews and of them the overdue rectifications; the numbers are in the table below.
trend-month = { $month }/{ $year }
trend-month_col = Month
trend-bad = Bad reviews
trend-overdue = Of them overdue
trend-link = My unit's ratings, last 12 months →
# An official's open deadlines: on their home page, the rectifications of bad reviews of the cases they handled, by deadline.
trend-due_heading = My open deadlines
trend-due_intro = Bad reviews of cases you handled whose rectification is not closed, by deadline; your unit carries out the rectification.
trend-due_empty = No bad review of a case you handled awaits rectification.
