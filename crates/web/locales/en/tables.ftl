# Tables: exports, pickers and phone views of the lists.
tables-parent_code = Parent unit code
tables-users_file = accounts
tables-units_hint = Hold Ctrl (⌘ on a Mac) to pick several units; a unit includes the units under it.
tables-cadre_placeholder = Type a name to search
tables-cadre_hint = Type a name, id or post and pick the person's own cadre record from the list; the list searches every cadre as you type.
tables-people_hint = Listed by unit; hold Ctrl (⌘ on a Mac) to pick several people, type a name or unit in the search box above to narrow the list.
tables-search_units = Search units (name or code)
tables-search_people = Search people or units
