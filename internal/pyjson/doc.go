// Package pyjson writes JSON the way Python's json.dumps does by default
// (ensure_ascii, ", " and ": " separators, floats as repr), so that files
// written by Go can be byte-identical to files tools/seqcast_export writes.
package pyjson
