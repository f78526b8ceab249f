package reconcile

import (
	"os"
	"testing"

	"github.com/addonsync/addonsync/internal/testenv"
)

// env is the real kube-apiserver + etcd the Runner's tests sync to.
var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }
