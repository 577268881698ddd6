import sys

from serve.local import main

sys.exit(main())
