"""Import and export of items: JSON and CSV both ways, QTI 2.1/2.2 choice items and content
packages in.

An import validates every record first and reports every problem by record and field;
if any record is invalid nothing is written. ``records`` names an item's fields once
for every format.
"""

from item_bank.transfer.export import FORMATS, export_bytes, export_records, format_for
from item_bank.transfer.importing import import_items, parse_upload
from item_bank.transfer.json_csv import (
    csv_row_to_record,
    parse_csv_records,
    parse_json_records,
    records_to_csv,
)
from item_bank.transfer.qti import Upload, parse_qti, read_item
from item_bank.transfer.records import (
    CSV_COLUMNS,
    ImportRefused,
    ImportSummary,
    ItemOutcome,
    RecordError,
    RefusedItem,
)
from item_bank.transfer.validation import MAX_RECORDS, validate_records

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "MAX_RECORDS",
    "ImportRefused",
    "ImportSummary",
    "ItemOutcome",
    "RecordError",
    "RefusedItem",
    "Upload",
    "csv_row_to_record",
    "export_bytes",
    "export_records",
    "format_for",
    "import_items",
    "parse_csv_records",
    "parse_json_records",
    "parse_qti",
    "parse_upload",
    "read_item",
    "records_to_csv",
    "validate_records",
]
