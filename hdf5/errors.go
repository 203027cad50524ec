package hdf5

import "fmt"

// UnsupportedError reports an HDF5 feature outside the subset this package
// reads. Feature names it (for example "superblock version 2" or "chunked
// dataset layout"); Path is the object it was found in, when known.
type UnsupportedError struct {
	Path    string
	Feature string
}

func (e *UnsupportedError) Error() string {
	where := ""
	if e.Path != "" {
		where = e.Path + ": "
	}
	return fmt.Sprintf("hdf5: %sunsupported: %s (this reader handles %s)", where, e.Feature, Subset)
}

// Subset is the part of the HDF5 format this package reads, as quoted in
// every UnsupportedError.
const Subset = "superblock 0/1, version-1 object headers, symbol-table groups, " +
	"contiguous or compact datasets without filters, integer, IEEE float16/32/64, fixed-length and variable-length string types"

// FormatError reports a file that is corrupt, truncated or hostile: an
// offset past the end, a bad signature, a cycle, a size claim larger than
// the file. Offset is the file offset of the structure, or -1.
type FormatError struct {
	Path   string
	Offset int64
	What   string
}

func (e *FormatError) Error() string {
	where := ""
	if e.Path != "" {
		where = e.Path + ": "
	}
	if e.Offset >= 0 {
		return fmt.Sprintf("hdf5: %s%s (at offset %d)", where, e.What, e.Offset)
	}
	return fmt.Sprintf("hdf5: %s%s", where, e.What)
}

// NotFoundError reports a name that is not in a group, or an attribute that
// an object does not have.
type NotFoundError struct {
	Path string // the group or object searched
	Name string
	Kind string // "link", "attribute", "group", "dataset"
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("hdf5: %s: no %s %q", e.Path, e.Kind, e.Name)
}

// TypeError reports a value read as a type it does not have (a string
// attribute read as numbers, an integer dataset read as float32, ...).
type TypeError struct {
	Path string
	Want string
	Have string
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("hdf5: %s: is %s, not %s", e.Path, e.Have, e.Want)
}
