package gateway

import "testing"

// The other tests run the gateway as `berth server` mounts it, calling its apiserver in
// process; these run the main ones again with the gateway dialing the apiserver over TCP, as
// `berth gateway` does.
func TestOverTheNetwork(t *testing.T) {
	overNetwork = true
	defer func() { overNetwork = false }()
	for name, test := range map[string]func(*testing.T){
		"Errors":                 TestErrors,
		"InvalidNamesTheField":   TestInvalidNamesTheField,
		"Warnings":               TestWarnings,
		"Binding":                TestBinding,
		"DeleteOptions":          TestDeleteOptions,
		"EveryResource":          TestEveryResource,
		"WatchStreamsEachEvent":  TestWatchStreamsEachEvent,
		"WatchResumes":           TestWatchResumes,
		"WatchFromNowListsFirst": TestWatchFromNowListsFirst,
		"WatchTimeout":           TestWatchTimeout,
		"Tables":                 TestTables,
		"PodLog":                 TestPodLog,
		"ClientGo":               TestClientGo,
	} {
		t.Run(name, test)
	}
}
