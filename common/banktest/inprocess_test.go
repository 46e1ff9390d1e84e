package banktest_test

import (
	"testing"

	"github.com/igbank/igbank/common/banktest"
)

// The reference service over the memory ledger, with no transport, passes
// the suite: the baseline every transport is held to.
func TestInProcess(t *testing.T) { banktest.Run(t, banktest.InProcess) }
