package testreport

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestJUnitAttachments: the [[ATTACHMENT|path]] lines of a failed or flaky
// testcase's system-out and system-err are its attachments (as Playwright
// writes them); a passed test's are not kept, nor a suite's; they are
// bounded in number and length.
func TestJUnitAttachments(t *testing.T) {
	many := strings.Builder{}
	for i := range 30 {
		fmt.Fprintf(&many, "[[ATTACHMENT|shot-%d.png]]\n", i)
	}
	report := `<testsuites><testsuite name="e2e">
<system-out>[[ATTACHMENT|suite-level.png]]</system-out>
<testcase classname="login.spec.ts" name="signs in">
  <failure message="expect(page).toHaveTitle">Error: timed out</failure>
  <system-out>
[[ATTACHMENT|test-results/login-signs-in/test-failed-1.png]]
some output
[[ATTACHMENT|test-results/login-signs-in/trace.zip]]
[[ATTACHMENT|test-results/login-signs-in/trace.zip]]
</system-out>
  <system-err><![CDATA[[[ATTACHMENT|test-results/login-signs-in/video.webm]]]]></system-err>
</testcase>
<testcase classname="chat.spec.ts" name="posts"><system-out>[[ATTACHMENT|passed.png]]</system-out></testcase>
<testcase classname="upload.spec.ts" name="uploads"><error message="boom"/><system-out>` + many.String() + `[[ATTACHMENT|` + strings.Repeat("x", 2000) + `]]</system-out></testcase>
</testsuite></testsuites>`
	res, err := ParseJUnit(strings.NewReader(report))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, tc := range res.Tests {
		got[tc.Name] = tc.Attachments
	}
	want := []string{"test-results/login-signs-in/test-failed-1.png", "test-results/login-signs-in/trace.zip", "test-results/login-signs-in/video.webm"}
	if !slices.Equal(got["signs in"], want) {
		t.Errorf("signs in: %q, want %q", got["signs in"], want)
	}
	if len(got["posts"]) != 0 {
		t.Errorf("a passed test keeps attachments: %q", got["posts"])
	}
	if n := len(got["uploads"]); n != MaxAttachments || got["uploads"][0] != "shot-0.png" {
		t.Errorf("uploads: %d attachments %q, want the first %d", n, got["uploads"], MaxAttachments)
	}
	for _, tc := range res.Tests {
		for _, a := range tc.Attachments {
			if a == "suite-level.png" || len(a) > 1024 {
				t.Errorf("%s: attachment %.40q", tc.Name, a)
			}
		}
	}
}
