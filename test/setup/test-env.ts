/** Where the global set-up leaves what the test files need (inherited by jest workers). */
export const ADMIN_URL_VAR = 'ATLAS_TEST_ADMIN_URL';
export const TEMPLATE_VAR = 'ATLAS_TEST_TEMPLATE';
export const TEST_DB_PREFIX = 'atlas_test_';
