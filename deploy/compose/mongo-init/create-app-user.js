// Run once by the mongo image when the data volume is first initialised
// (docker-entrypoint-initdb.d, as the root user). The services connect as this user: it reads
// and writes every database (one per tenant and service, created as tenants appear), and has
// no user, role or cluster administration.
const admin = db.getSiblingDB("admin");
admin.createUser({
  user: process.env.MONGO_APP_USERNAME,
  pwd: process.env.MONGO_APP_PASSWORD,
  roles: [{ role: "readWriteAnyDatabase", db: "admin" }],
});
