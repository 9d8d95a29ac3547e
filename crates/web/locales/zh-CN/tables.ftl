# Tables: exports, pickers and phone views of the lists.
tables-parent_code = 上级单位编码
tables-users_file = 账号
tables-units_hint = 按住 Ctrl（Mac 上为 ⌘）可选多个单位；选中一个单位即包括其下级单位。
tables-cadre_placeholder = 输入姓名查找
tables-cadre_hint = 输入姓名、编号或职务，从列表中选择本人的干部档案；列表随输入从全部干部中查找。
tables-people_hint = 按单位列出；按住 Ctrl（Mac 上为 ⌘）可选多人，在上方搜索框输入姓名或单位可筛选列表。
tables-search_units = 搜索单位（名称或代码）
tables-search_people = 搜索人员或单位
