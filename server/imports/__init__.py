"""File imports: the tenant's own template and NHS England monthly statistics files.

A file is read into a table (``read``), turned into lines by its format (``template`` or a
declarative NHS England mapping, ``mapping``), checked line by line against the organisation's
indicators (``check``), compared with what is stored (``compare``) and, unless it is a dry run,
stored through ``submit_measurements`` — all of it or none of it (``service``).
"""
