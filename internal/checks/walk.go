package checks

import "io/fs"

// skipDir tells FS.Walk not to descend into a directory.
var skipDir = fs.SkipDir
