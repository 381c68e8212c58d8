"""The test kit: the pytest plugin that gives tests the embedded stack (`stack`,
`stack_factory`, `mongo_uri`, `redis_url`), the assertions every service's tests share
(`testing`), the security tests' world and spec walker (`security`, `apispec`), the role matrix
generator (`access_matrix`) and the poisoned consumer of the dead-letter tests (`poison`).

Loaded for every run through `-p kugelpos.testkit.pytest_plugin` in the root pyproject.
"""
