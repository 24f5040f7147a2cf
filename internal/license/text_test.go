package license

import "testing"

func TestClassifyText(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"Copyright (c) 2024 Acme Corp. All rights reserved.\n\nThis software is the confidential property of Acme.", Proprietary},
		{"MIT License\n\nCopyright (c) 2023 x\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software", "MIT"},
		{"                                 Apache License\n                           Version 2.0, January 2004", "Apache-2.0"},
		{"GNU AFFERO GENERAL PUBLIC LICENSE\n Version 3, 19 November 2007", "AGPL-3.0-only"},
		{"GNU GENERAL PUBLIC LICENSE Version 2, June 1991 ... either version 2 of the License, or (at your option) any later version.", "GPL-2.0-or-later"},
		{"Redistribution and use in source and binary forms, with or without\nmodification... * Neither the name of the copyright holder", "BSD-3-Clause"},
		// BSD texts say "All rights reserved." too: the grant wins.
		{"Copyright (c) 2020 x. All rights reserved.\nRedistribution and use in source and binary forms, with or without modification, are permitted", "BSD-2-Clause"},
	} {
		if got, ok := ClassifyText(c.text); !ok || got != c.want {
			t.Errorf("%.40q: %q %v, want %q", c.text, got, ok, c.want)
		}
	}
	if got, ok := ClassifyText("Read the manual at /opt/x/doc."); ok {
		t.Errorf("a plain text classified as %s", got)
	}
}
