-- RequestConsent for the demo shop's OA (the sandbox stores one consent per request).
local common = require("common")
common.post('{"oa_id":"1234567890123456789","phone":"0912345678",' ..
            '"call_type":"audio","reason_code":"update_order"}')
done = common.done
