"""Lint-only stand-ins for dbt's cross-database macros (`dbt.dateadd` ...).

sqlfluff's jinja templater has no dbt adapter; these render the DuckDB form so
the linter sees realistic SQL. dbt itself never loads this folder.
"""


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"{from_date_or_timestamp} + interval ({interval}) {datepart}"


def datediff(first_date, second_date, datepart):
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def safe_cast(field, type):
    return f"try_cast({field} as {type})"


def cast(field, type):
    return f"cast({field} as {type})"


def type_numeric():
    return "numeric(28, 6)"


def type_string():
    return "varchar"


def type_int():
    return "integer"


def type_bigint():
    return "bigint"


def type_float():
    return "double"


def type_timestamp():
    return "timestamp"


def type_boolean():
    return "boolean"


def concat(fields):
    return " || ".join(fields)


def split_part(string_text, delimiter_text, part_number):
    return f"split_part({string_text}, {delimiter_text}, {part_number})"


def current_timestamp():
    return "now()"


def hash(field):
    return f"md5(cast({field} as varchar))"


def last_day(date, datepart):
    return f"last_day({date})"


def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
    return f"string_agg({measure}, {delimiter_text})"


def bool_or(expression):
    return f"bool_or({expression})"


def any_value(expression):
    return f"any_value({expression})"


def escape_single_quotes(expression):
    return expression.replace("'", "''")


def string_literal(value):
    return f"'{value}'"


def length(expression):
    return f"length({expression})"


def position(substring_text, string_text):
    return f"position({substring_text} in {string_text})"


def replace(field, old_chars, new_chars):
    return f"replace({field}, {old_chars}, {new_chars})"


def right(string_text, length_expression):
    return f"right({string_text}, {length_expression})"


def generate_series(upper_bound):
    return f"select unnest(range(1, {upper_bound} + 1)) as generated_number"


def date_spine(datepart, start_date, end_date):
    return (
        f"select cast(unnest(generate_series(cast({start_date} as timestamp), "
        f"cast({end_date} as timestamp) - interval 1 {datepart}, interval 1 {datepart})) "
        "as timestamp) as date_" + datepart
    )
