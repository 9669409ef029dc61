<?php
http_response_code(503);
echo "maintenance";
