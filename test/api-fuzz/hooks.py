"""Schemathesis hooks for the API fuzz run (test/api-fuzz.test.ts).

The run signs in once as an administrator; a generated request that changed or deleted that account
would end its session and leave the rest of the run answering 401, so such requests are pointed at an
id no account has instead.
"""
import os

import schemathesis

OWN_USER_ID = os.environ["FUZZ_ADMIN_USER_ID"]


@schemathesis.hook
def map_path_parameters(ctx, path_parameters):
    if path_parameters and path_parameters.get("user_id") == OWN_USER_ID:
        return {**path_parameters, "user_id": "00000000-0000-4000-8000-000000000000"}
    return path_parameters
