-- The MySQL/MariaDB database and user the service needs, nothing more. Run as an administrator
-- with a password of your own (URL-safe characters: it goes into DATABASE_URL as is):
--   sed "s/REPLACE_WITH_A_PASSWORD/$(openssl rand -hex 24)/" deploy/create-database.sql | mariadb -u root -p
-- then DATABASE_URL=mysql://apikeys:<that password>@<host>:3306/apikeys.
-- CREATE, ALTER, INDEX, REFERENCES and DROP are for the migrations the service runs at start (DROP
-- also for reverting one); SELECT is enough for mariadb-dump --single-transaction --no-tablespaces.
-- Checked by test/operations/mariadb/database-grants.test.ts.
CREATE DATABASE apikeys CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'apikeys'@'%' IDENTIFIED BY 'REPLACE_WITH_A_PASSWORD';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES, DROP ON apikeys.* TO 'apikeys'@'%';
