// Package printers owns how berthctl shows objects to people and scripts: kubectl's tables
// (the columns kubectl shows per kind, its rules for a Pod's STATUS, its AGE format, the
// NAMESPACE column with -A, -o wide), `-o name`, `-o json|yaml` (objects as Kubernetes JSON,
// several as a `kind: List`), and `describe`'s human description of an object followed by its
// Events.
//
// Tables are built from the scheme's objects: Columns and Row give the header and cells for
// any kind, and a TablePrinter aligns them the way kubectl's tab writer does, keeping the
// column widths across calls so that a watch prints one aligned line per change.
package printers
