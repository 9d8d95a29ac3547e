# Tables: exports, pickers and phone views of the lists.
tables-parent_code = 上级单位编码
tables-users_file = 账号
tables-units_hint = 按住 Ctrl（Mac 上为 ⌘）可选多个单位；选中一个单位即包括其下级单位。
tables-cadre_placeholder = 输入姓名查找
tables-cadre_hint = 输入姓名、单位或职务，从列表中选择本人的干部档案。
tables-people_hint = 按单位列出；按住 Ctrl（Mac 上为 ⌘）可选多人，在列表中键入姓名可跳到该人。
