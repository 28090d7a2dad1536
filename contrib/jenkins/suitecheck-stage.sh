#!/bin/sh
# Runs a suitecheck suite in a CI job, writes its JUnit report, and maps the
# check's state to the job's result: OK passes; WARNING passes but leaves
# the report's failures for the junit step to mark the build unstable;
# CRITICAL and UNKNOWN fail. Used by Jenkinsfile; works in any CI.
#   suitecheck-stage.sh SUITE REPORT [more suitecheck flags…]
set -u
suite=${1:?usage: suitecheck-stage.sh SUITE REPORT [flags]}
report=${2:?usage: suitecheck-stage.sh SUITE REPORT [flags]}
shift 2
"${SUITECHECK:-suitecheck}" run "$suite" --junit "$report" "$@"
rc=$?
case $rc in
0) echo "suitecheck: OK" ;;
1) echo "suitecheck: WARNING (the report marks what)"; rc=0 ;;
2) echo "suitecheck: CRITICAL" ;;
*) echo "suitecheck: UNKNOWN (exit $rc): the check could not judge the app" ;;
esac
exit $rc
