# Tables: exports, pickers and phone views of the lists.
tables-parent_code = Parent unit code
tables-users_file = accounts
tables-units_hint = Hold Ctrl (⌘ on a Mac) to pick several units; a unit includes the units under it.
tables-cadre_placeholder = Type a name to search
tables-cadre_hint = Type a name, unit or post and pick the person's own cadre record from the list.
tables-people_hint = Listed by unit; hold Ctrl (⌘ on a Mac) to pick several people, type a name in the list to jump to it.
