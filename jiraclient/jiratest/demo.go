package jiratest

import (
	"strconv"
	"strings"
)

// DemoIssues is the issue set of the local demo stack and of the
// end-to-end tests over the Apache ZooKeeper corpus: every ZOOKEEPER issue
// except those whose number ends in 7 (as if deleted, so that validation
// has something to reject), and every HADOOP issue. The other Apache
// projects exist with no issues; CVE, UTF, SHA and the like are not
// projects at all. Use it as Options.IssueExists.
func DemoIssues(key string) bool {
	proj, num, _ := strings.Cut(key, "-")
	n, err := strconv.Atoi(num)
	if err != nil {
		return false
	}
	switch proj {
	case "ZOOKEEPER":
		return n%10 != 7
	case "HADOOP":
		return true
	}
	return false
}
