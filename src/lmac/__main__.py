from lmac.cli.main import main

raise SystemExit(main())
