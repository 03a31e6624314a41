// Package faulttest holds fault-injection tests that run the real kiosk,
// central and nats-server binaries as processes on 127.0.0.1 and break
// what lies between them: NATS restarts, a flapping link, SIGKILLed kiosks
// and centrals, a week-long offline backlog and an edited outbox. See the
// table at the top of faulttest_test.go. There is no non-test code here
// but internal/natsd, the nats-server main the tests build.
package faulttest
