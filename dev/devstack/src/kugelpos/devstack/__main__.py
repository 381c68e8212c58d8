from kugelpos.devstack.cli import main

raise SystemExit(main())
