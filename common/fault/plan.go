package fault

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"

	"github.com/igbank/igbank/common/bank"
)

// Kind is what happens to one call.
type Kind uint8

const (
	// None passes the call on.
	None Kind = iota
	// LoseRequest resets the connections before the call reaches the
	// bank: the server never processes it.
	LoseRequest
	// LoseResponse lets the bank process the call, then resets the
	// connections before the response can be written.
	LoseResponse
	// CrashBeforeApply dies after the request was read and decoded,
	// before the bank applies it.
	CrashBeforeApply
	// CrashAfterApply dies after the bank applied the call, before the
	// answer is written.
	CrashAfterApply
)

var kindNames = [...]string{
	None:             "none",
	LoseRequest:      "lose-request",
	LoseResponse:     "lose-response",
	CrashBeforeApply: "crash-before-apply",
	CrashAfterApply:  "crash-after-apply",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// Call describes a call to a Plan.
type Call struct {
	Op bank.Op
	// N is the call's number, from 1, counting every operation.
	N int64
	// Deposit is a deposit's number, from 1, counting the deposits this
	// server took in (retries included); a crash-after-apply whose deposit
	// failed hands its number to the next one, so that the plan waits for
	// a deposit that is applied. 0 for the other operations.
	Deposit int64
	// Key is a deposit's idempotency key as the client sent it.
	Key string
}

// Plan decides the fault of each call. It may be called concurrently.
type Plan func(Call) Kind

// newRand returns the seeded source every random plan draws from, so that
// a failing run can be repeated.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Random loses requests with probability pRequest and responses with
// probability pResponse, from a seeded source.
func Random(seed uint64, pRequest, pResponse float64) Plan {
	var mu sync.Mutex
	r := newRand(seed)
	return func(Call) Kind {
		mu.Lock()
		x := r.Float64()
		mu.Unlock()
		switch {
		case x < pRequest:
			return LoseRequest
		case x < pRequest+pResponse:
			return LoseResponse
		}
		return None
	}
}

// FirstDepositOfEachKey loses the response of the first attempt of every
// deposit (the first time its key is seen) and nothing else: the
// deterministic deposit-twice scenario.
func FirstDepositOfEachKey() Plan {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(c Call) Kind {
		if c.Op != bank.OpDeposit {
			return None
		}
		mu.Lock()
		defer mu.Unlock()
		if seen[c.Key] {
			return None
		}
		seen[c.Key] = true
		return LoseResponse
	}
}

// Spec is a plan for deposits that can be written down, so that a harness
// can hand it to a server process it starts. Parse reads the text that
// "loadtest serve -fault" takes:
//
//	crash-after-apply        on the first deposit
//	crash-after-apply:3      on the third deposit this process sees
//	crash-before-apply:p=0.1,seed=7
//	                         on each deposit with probability 0.1, from a seeded source
//
// Deposits are counted per process (per Bank), retries included, so a
// harness that restarts a killed server with the same spec makes it die
// again after as many deposits; restarted without one, it runs clean. Any
// Kind may be written, the crashes being the ones a spec is for.
type Spec struct {
	Kind Kind
	// Nth is the deposit (from 1, retries included) the fault strikes,
	// when P is 0. 0 means 1.
	Nth int64
	// P, if positive, makes the fault strike each deposit with
	// probability P instead, drawn from a source seeded with Seed.
	P    float64
	Seed uint64
}

// String is the spec as Parse reads it.
func (s Spec) String() string {
	switch {
	case s.Kind == None:
		return "none"
	case s.P > 0:
		return fmt.Sprintf("%s:p=%s,seed=%d", s.Kind, strconv.FormatFloat(s.P, 'g', -1, 64), s.Seed)
	case s.Nth > 1:
		return fmt.Sprintf("%s:%d", s.Kind, s.Nth)
	}
	return s.Kind.String()
}

// Parse reads a spec: "none" (or ""), KIND, KIND:N or KIND:p=P[,seed=S],
// with KIND one of the Kind names (crash-before-apply, crash-after-apply,
// lose-request, lose-response).
func Parse(text string) (Spec, error) {
	text = strings.TrimSpace(text)
	if text == "" || text == "none" {
		return Spec{}, nil
	}
	name, arg, hasArg := strings.Cut(text, ":")
	var s Spec
	for k, n := range kindNames {
		if k != int(None) && n == name {
			s.Kind = Kind(k)
		}
	}
	if s.Kind == None {
		return Spec{}, fmt.Errorf("fault %q: want crash-before-apply or crash-after-apply (or lose-request, lose-response), optionally :N or :p=P,seed=S", text)
	}
	if !hasArg {
		return s, nil
	}
	if n, err := strconv.ParseInt(arg, 10, 64); err == nil {
		if n < 1 {
			return Spec{}, fmt.Errorf("fault %q: the deposit number must be 1 or more", text)
		}
		s.Nth = n
		return s, nil
	}
	for _, kv := range strings.Split(arg, ",") {
		k, v, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "p":
			s.P, err = strconv.ParseFloat(v, 64)
			if err == nil && !(s.P > 0 && s.P <= 1) {
				err = fmt.Errorf("%v is not a probability in (0, 1]", s.P)
			}
		case "seed":
			s.Seed, err = strconv.ParseUint(v, 10, 64)
		default:
			err = fmt.Errorf("unknown parameter %q", k)
		}
		if err != nil {
			return Spec{}, fmt.Errorf("fault %q: %v", text, err)
		}
	}
	if s.P == 0 {
		return Spec{}, fmt.Errorf("fault %q: p=P is required with seed", text)
	}
	return s, nil
}

// Plan returns the plan s describes: its Kind on the Nth deposit, or on
// each deposit with probability P; nothing on other calls.
func (s Spec) Plan() Plan {
	if s.Kind == None {
		return nil
	}
	if s.P > 0 {
		var mu sync.Mutex
		r := newRand(s.Seed)
		return func(c Call) Kind {
			if c.Op != bank.OpDeposit {
				return None
			}
			mu.Lock()
			defer mu.Unlock()
			if r.Float64() < s.P {
				return s.Kind
			}
			return None
		}
	}
	nth := max(s.Nth, 1)
	return func(c Call) Kind {
		if c.Op == bank.OpDeposit && c.Deposit == nth {
			return s.Kind
		}
		return None
	}
}
