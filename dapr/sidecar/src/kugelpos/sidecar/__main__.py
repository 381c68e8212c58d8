from kugelpos.sidecar.cli import main

main()
