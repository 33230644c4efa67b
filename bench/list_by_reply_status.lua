-- ListRequestConsent: first page (limit 100) of the consents the customer agreed to (reply_status
-- P, a third of every benchmark data set), newest first: a filter that is not the phone.
local common = require("common")
common.post('{"filter":{"reply_status":"P"},"paging":{"limit":100}}')
done = common.done
