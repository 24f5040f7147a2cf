package license

import (
	"regexp"
	"strings"
)

// Proprietary is the SPDX LicenseRef shipshape gives a licence text that
// reserves all rights and grants none.
const Proprietary = "LicenseRef-proprietary"

// textRule recognises one licence by phrases of its text.
type textRule struct {
	id  string
	all []string // every phrase must appear
	any []string // and one of these, when set
}

// textRules are checked in order: the more specific first (AGPL before GPL,
// LGPL before GPL, BSD-3 before BSD-2).
var textRules = []textRule{
	{id: "AGPL-3.0-or-later", all: []string{"gnu affero general public license", "version 3", "any later version"}},
	{id: "AGPL-3.0-only", all: []string{"gnu affero general public license", "version 3"}},
	{id: "LGPL-3.0-or-later", all: []string{"gnu lesser general public license", "version 3", "any later version"}},
	{id: "LGPL-3.0-only", all: []string{"gnu lesser general public license", "version 3"}},
	{id: "LGPL-2.1-or-later", all: []string{"gnu lesser general public license", "version 2.1", "any later version"}},
	{id: "LGPL-2.1-only", all: []string{"gnu lesser general public license", "version 2.1"}},
	{id: "GPL-3.0-or-later", all: []string{"gnu general public license", "version 3", "any later version"}},
	{id: "GPL-3.0-only", all: []string{"gnu general public license", "version 3"}},
	{id: "GPL-2.0-or-later", all: []string{"gnu general public license", "version 2", "any later version"}},
	{id: "GPL-2.0-only", all: []string{"gnu general public license", "version 2"}},
	{id: "Apache-2.0", all: []string{"apache license", "version 2.0"}},
	{id: "MPL-2.0", all: []string{"mozilla public license", "2.0"}},
	{id: "MIT", all: []string{"permission is hereby granted, free of charge, to any person obtaining a copy"}},
	{id: "BSD-3-Clause", all: []string{"redistribution and use in source and binary forms", "neither the name"}},
	{id: "BSD-2-Clause", all: []string{"redistribution and use in source and binary forms"}},
	{id: "ISC", all: []string{"permission to use, copy, modify, and", "distribute this software for any purpose with or without fee is hereby granted"}},
	{id: "Unlicense", all: []string{"this is free and unencumbered software released into the public domain"}},
	{id: "Zlib", all: []string{"this software is provided 'as-is', without any express or implied warranty", "altered source versions must be plainly marked"}},
	{id: Proprietary, any: []string{"all rights reserved", "end user license agreement", "proprietary and confidential", "unauthorized copying", "may not be copied, distributed"}},
}

var spaces = regexp.MustCompile(`[\s*#/]+`)

// ClassifyText names the licence a licence file's text holds, as an SPDX
// identifier; Proprietary for a text that reserves all rights and grants
// none; false when it recognises none. It reads phrases, not the whole text,
// and is meant for files named LICENSE, COPYING, EULA and the like.
func ClassifyText(text string) (string, bool) {
	if len(text) > 1<<20 {
		text = text[:1<<20]
	}
	t := strings.ToLower(spaces.ReplaceAllString(text, " "))
	for _, r := range textRules {
		ok := true
		for _, p := range r.all {
			ok = ok && strings.Contains(t, p)
		}
		if ok && len(r.any) > 0 {
			found := false
			for _, p := range r.any {
				found = found || strings.Contains(t, p)
			}
			ok = found
		}
		if ok {
			return r.id, true
		}
	}
	return "", false
}
