from kugelpos.embedded_mongo.server import main

main()
